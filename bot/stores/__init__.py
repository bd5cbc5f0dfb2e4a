"""Where Rasa keeps conversations (endpoints.yml), all on the one Redis.

- ``tracker_store.KefuRedisTrackerStore`` (``tracker_store``): no replay on every save.
- ``lock_store.KefuRedisLockStore`` (``lock_store``): one message per conversation at a time,
  in order, across every Rasa worker.
- ``degraded.MemoryFallback``: the channels answer from memory while Redis is away.
"""
