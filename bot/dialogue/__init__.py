"""Dialogue pieces Rasa loads.

- ``answer_policy.AnswerPolicy`` (config.yml ``policies``): an open question takes the answer.
- ``policies.CachedTEDPolicy`` (config.yml ``policies``): TED with an exact prediction cache.
- ``nlg.KefuNLG`` (endpoints.yml ``nlg``): replies in the conversation's script.
- ``action_retry``: installed by bot.runner.rasa_main; a restarting action server is retried.
- ``graph_runner.PlainGraphRunner``: the inference graph in dask's order without dask's scheduler
  (installed by bot.channels.speedups).
- ``prior_states``: the dialogue states extended turn by turn, not rebuilt per policy call
  (installed by bot.channels.speedups).
- ``local_actions``: Kefu's custom actions in Rasa's process (``KEFU_ACTIONS_IN_PROCESS=0``: over HTTP).
"""
