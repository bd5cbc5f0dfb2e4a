"""Load DIET and TED for prediction without tracing a training step.

Rasa 3.6 loads every TensorFlow model (``RasaModel.load``) by compiling it,
running ``model.fit`` on one example "to build weights of the correct size",
then reading the trained weights over them. ``fit`` traces Keras's whole
training function into a TensorFlow graph: forward pass, gradients, Adam's
update. Nothing at prediction time uses that graph, yet it stays in the
process. On Kefu's model Rasa's load adds about 510 MiB of memory per Rasa
worker and takes about 16 s; this one adds about 240 MiB and takes about
6 s (``python -m bench.model_load rasa|lean``; make bench reports both).

:func:`load` does what Rasa's ``load`` does, in the same order, except that
the one-example ``fit`` runs eagerly (``run_eagerly=True``): the same layers
are built by the same code, no graph is traced, and the model gets back its
configured ``run_eagerly`` before the weights are read and the prediction
function is traced exactly as Rasa traces it. Layers that only a training
graph's untaken ``tf.cond`` branches build (TED's label encoders for the
other input kind) are not built at load; prediction never calls them (the
prediction graph is traced at load and does not create them), and should
one ever be built later its weights are read from the checkpoint when it is
created (TensorFlow's restore-on-create for object-based checkpoints).
``expect_partial`` says so, instead of a warning per unbuilt weight at exit.
The optimizer's state in the checkpoint (Adam's moments) is not read either:
only training uses it.

tests/foundation/test_lean_load.py compares every graph node's output of a
lean-loaded model with a Rasa-loaded one over generated conversations.
``finetune_mode`` (``rasa train --finetune``) keeps Rasa's own load: it needs
the training function. ``KEFU_LEAN_MODEL_LOAD=0`` keeps Rasa's load always.
"""
from __future__ import annotations

import contextlib
from typing import Any, Iterator, Optional

import tensorflow as tf
from rasa.utils.tensorflow import models
from rasa.utils.tensorflow.constants import RUN_EAGERLY
from rasa.utils.tensorflow.data_generator import RasaBatchDataGenerator
from rasa.utils.tensorflow.model_data import RasaModelData

from core.switches import switch

#: KEFU_LEAN_MODEL_LOAD=0 keeps Rasa's RasaModel.load
LEAN_LOAD_ENV = "KEFU_LEAN_MODEL_LOAD"

_rasa_load: Optional[Any] = None


def load(
    cls: Any,
    model_file_name: str,
    model_data_example: RasaModelData,
    predict_data_example: Optional[RasaModelData] = None,
    finetune_mode: bool = False,
    *args: Any,
    **kwargs: Any,
) -> Any:
    """``RasaModel.load`` (rasa/utils/tensorflow/models.py) with an eager build step."""
    if finetune_mode:
        assert _rasa_load is not None
        return _rasa_load.__func__(cls, model_file_name, model_data_example, predict_data_example,
                                   finetune_mode, *args, **kwargs)
    model = cls(*args, **kwargs)
    config = kwargs.get("config", {})
    # Keras's legacy SGD, not Rasa's Adam: no slot variables, and none of its own under the names
    # the checkpoint keeps Adam's moments by (their position in the optimizer's variable list). The
    # eager build creates fewer variables (see above), so any optimizer of the new kind would read
    # those moments into the wrong variables (TED fails to load, with a shape error). Prediction
    # reads no optimizer state.
    model.compile(optimizer=tf.keras.optimizers.legacy.SGD(), run_eagerly=True)
    model.fit(RasaBatchDataGenerator(model_data_example, batch_size=1), verbose=False)
    model.run_eagerly = config.get(RUN_EAGERLY)  # what Rasa compiles with: predictions are traced as in Rasa
    model.load_weights(model_file_name).expect_partial()
    if predict_data_example:
        model.run_inference(predict_data_example)  # traces the prediction function, as Rasa does here
    return model


def enabled() -> bool:
    return switch(LEAN_LOAD_ENV)


def install() -> None:
    """Models loaded from now on use :func:`load` (idempotent; nothing with KEFU_LEAN_MODEL_LOAD=0)."""
    global _rasa_load
    if _rasa_load is not None or not enabled():
        return
    _rasa_load = models.RasaModel.__dict__["load"]
    models.RasaModel.load = classmethod(load)  # type: ignore[method-assign]


def uninstall() -> None:
    """Back to Rasa's own load (tests)."""
    global _rasa_load
    if _rasa_load is not None:
        models.RasaModel.load = _rasa_load  # type: ignore[method-assign]
        _rasa_load = None


@contextlib.contextmanager
def rasa_load() -> Iterator[None]:
    """Models loaded inside the block use Rasa's own load, whatever was installed (tests, bench)."""
    was_installed = _rasa_load is not None
    uninstall()
    try:
        yield
    finally:
        if was_installed:
            install()
