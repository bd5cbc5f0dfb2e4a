"""What every Kefu process shares: no Rasa, no Starlette, no order platform.

Used by the bot (bot/), the action server (actions/) and the bridge (handoff/);
imports nothing of theirs.
- ``paths``, ``secrets``: where data lives; tokens kept on disk (0600).
- ``redis_url``, ``keys``, ``socketio_redis``: the one Redis, every key on it, socket.io's
  manager on it.
- ``text``, ``patterns``, ``pii``: script conversion, the patterned entities of
  data/patterns.yml, personal-data detection and masking (the only masking code).
- ``responses``: the domain's replies for code outside Rasa's NLG.
- ``identity``: signed customer tokens from the platform's app.
- ``safety_lexicon``: the danger cues of data/safety_lexicon.yml, read without the NLU engine.
- ``lua``: Redis Lua scripts kept as ``.lua`` files beside the module that runs them.
- ``switches``: the on/off settings, one reading for all of them.
"""
