"""The order platform adapter: the part a real deployment replaces.

- ``service``: ``OrderService`` (look up, act on, verify the owner of an order) and the
  demo ``SqliteOrderService`` behind it (`make seed`).
- ``validation``: order-number formats, phone and e-mail normalisation, what counts as an
  answer to the second factor. Pure functions.

Used by the action server (actions/) and the bridge (handoff/), which never import each other.
"""
