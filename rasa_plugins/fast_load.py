"""Loading a trained model without training it one step first (runs INSIDE the Rasa server; same predictions).

Rasa 3.6 builds a stored DIET or TED model in ``RasaModel.load`` by compiling it and *training it for one step* on
one example (``model.fit``), only to create its variables in the right sizes; then it loads the stored weights
over them and traces the prediction once. Tracing Keras' training step (loss, gradients, optimizer) is most of
the cost of starting a Rasa server: a profile of ``Agent.load`` of this bot spent 88 of 101 s in the two ``fit``
calls (DIET 75 s). Every start pays it: ``make run``, each replica of the production profile, every restart, and
about a dozen server starts of ``make test``.

:func:`load` creates the same variables with one prediction instead (Keras builds a layer on its first call):

1. the model object as Rasa creates it, compiled as Rasa compiles it;
2. one eager prediction on Rasa's own example: every variable a prediction reads now exists;
3. the stored weights are loaded into them, and *every* variable that exists must have been found in the stored
   model (``assert_existing_objects_matched``); the optimizer's state and layers used only in training stay
   unread (``expect_partial``): a prediction never reads them;
4. the label embeddings are prepared again from the loaded weights and the prediction is traced, as Rasa's
   ``load`` does at its end.

Anything else (fine-tuning, a model configured to run eagerly, no prediction example, a stored model that does
not match) goes to Rasa's own ``load`` unchanged. tests/rasa/test_fast_load.py loads the bot's model both ways and
checks that every variable holds the same value and that the same messages get the same intents, confidences and
entities. :func:`install` is idempotent; ``rasa_plugins.serve`` calls it before Rasa starts.
"""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)

_original: Any = None


def load(
    cls: Any,
    model_file_name: str,
    model_data_example: Any,
    predict_data_example: Any = None,
    finetune_mode: bool = False,
    *args: Any,
    **kwargs: Any,
) -> Any:
    """``RasaModel.load`` building the variables by one prediction instead of one training step."""
    from rasa.utils.tensorflow.constants import LEARNING_RATE, RUN_EAGERLY

    def rasas_own() -> Any:
        return _original.__func__(cls, model_file_name, model_data_example, predict_data_example, finetune_mode,
                                  *args, **kwargs)

    config = kwargs.get("config", {})
    if finetune_mode or predict_data_example is None or config.get(RUN_EAGERLY):
        return rasas_own()
    import tensorflow as tf
    from rasa.utils.train_utils import create_data_generators

    model = cls(*args, **kwargs)
    model.compile(optimizer=tf.keras.optimizers.Adam(config.get(LEARNING_RATE, 0.001)), run_eagerly=False)
    generator, _ = create_data_generators(model_data=predict_data_example, batch_sizes=1, epochs=1, shuffle=False)
    batch_in = next(iter(generator))[0]
    model._training = False
    model.prepare_for_predict()
    model.batch_predict(batch_in)  # eager: creates the variables of a prediction
    status = model.load_weights(model_file_name)
    try:
        status.assert_existing_objects_matched()
    except AssertionError as error:
        log.warning("fast model load: the stored model does not match (%s); Rasa's own load instead",
                    str(error)[:200])
        return rasas_own()
    status.expect_partial()
    model.prepared_for_prediction = False  # (prepare_for_predict above left it unset) label embeddings again
    model.run_inference(predict_data_example)
    log.info("%s loaded without a training step", cls.__name__)
    return model


def install() -> None:
    """Use :func:`load` for every DIET/TED model Rasa loads in this process (idempotent)."""
    global _original
    from rasa.utils.tensorflow.models import RasaModel

    if _original is None:
        _original = RasaModel.__dict__["load"]
        RasaModel.load = classmethod(load)  # type: ignore[method-assign,assignment]


def uninstall() -> None:
    """Rasa's own ``load`` again (tests)."""
    global _original
    from rasa.utils.tensorflow.models import RasaModel

    if _original is not None:
        RasaModel.load = _original  # type: ignore[method-assign]
        _original = None
