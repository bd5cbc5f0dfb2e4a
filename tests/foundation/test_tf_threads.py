"""One TensorFlow thread per pool (bot/runner/rasa_main.one_tf_thread): the served
Rasa gets it by default, the operator's choice wins, and the model answers
exactly as with TensorFlow's own thread pools."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any, Dict

from bot.runner.rasa_main import TF_THREAD_ENVS, one_tf_thread
from core.paths import ROOT

#: in its own process (TensorFlow's pools are fixed once it starts): DIET's intent ranking of
#: every held-out message and TED's probabilities at every step of generated conversations,
#: floats as JSON writes them (repr: every digit)
ANSWERS = """
import asyncio, json, sys
from rasa.utils.tensorflow.environment import setup_tf_environment
setup_tf_environment()  # what Rasa's CLI does with the two variables
import tensorflow as tf
from bench.micro_runner import no_prediction_cache, steps
from tests.foundation.test_lean_load import held_out_messages
from tests.model import agent
bot = agent()
pools = [tf.config.threading.get_inter_op_parallelism_threads(), tf.config.threading.get_intra_op_parallelism_threads()]
parses = [asyncio.run(bot.parse_message(text))["intent_ranking"] for text in held_out_messages()]
predictions = []
processor = bot.processor
with no_prediction_cache(processor.graph_runner):
    for kind, inputs, _targets in steps(processor, range(12)):
        if kind == "predict":
            predictions.append(processor._predict_next_with_tracker(inputs["__tracker__"]).probabilities)
print(json.dumps({"pools": pools, "parses": parses, "predictions": predictions}))
"""


def answers(**tf_env: str) -> Dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if k not in TF_THREAD_ENVS}
    env.update(tf_env, TF_CPP_MIN_LOG_LEVEL="3")
    out = subprocess.run([sys.executable, "-c", ANSWERS], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_one_thread_is_the_default_and_the_operators_choice_wins() -> None:
    environ = {"TF_INTRA_OP_PARALLELISM_THREADS": "4"}
    one_tf_thread(environ)
    assert environ == {"TF_INTER_OP_PARALLELISM_THREADS": "1", "TF_INTRA_OP_PARALLELISM_THREADS": "4"}


def test_one_thread_gives_every_digit_tensorflows_pools_give() -> None:
    default = answers()
    single: Dict[str, str] = {}
    one_tf_thread(single)
    one = answers(**single)
    assert one["pools"] == [1, 1] and default["pools"] == [0, 0]  # 0: TensorFlow's own choice (the cores)
    assert len(one["parses"]) > 400 and len(one["predictions"]) > 100
    assert one["parses"] == default["parses"]
    assert one["predictions"] == default["predictions"]
