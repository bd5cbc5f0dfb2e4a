"""The Rasa side of Kefu: what Rasa loads from config.yml, endpoints.yml and credentials.yml.

- ``bot.nlu``: the NLU pipeline's own components (config.yml ``pipeline``).
- ``bot.dialogue``: policies (config.yml ``policies``), the NLG (endpoints.yml ``nlg``)
  and the custom-action retry Rasa's process installs.
- ``bot.stores``: the tracker and lock stores (endpoints.yml), and the in-memory
  fallback while Redis is away.
- ``bot.channels``: the customer channels (credentials.yml) and the rules they apply
  before Rasa sees a message.
- ``bot.runner``: not loaded by Rasa: the processes of `make run` / `make cluster`
  (embedded Redis, supervisor, Rasa's CLI without secrets in argv, model reload).
"""
