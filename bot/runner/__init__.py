"""The processes behind `make run` and `make cluster`; Rasa never imports these.

- ``stack``: Redis, action server, Rasa, bridge on one machine (``python -m bot.runner.stack``).
- ``cluster``: N of each behind nginx on one Redis (``python -m bot.runner.cluster``).
- ``settings``: what both read from the environment and give their children; ``foreground``: health
  wait, signals and the banner they share.
- ``supervisor``: restart with back-off, die with the parent; ``stack_process``: a stack for tests.
- ``redis_server``: the embedded redis-server (password, AOF); ``hardening``: process protections.
- ``rasa_main``: Rasa's CLI with its API token from the environment; ``reload``: `make reload`.
"""
