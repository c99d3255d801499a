"""Task heads over lstmkit's recurrent layers: masked pooling, encoder, classifier, tagger, language model.

Every tensor here is batch-first. A batch of token ids ``tokens (B, T)`` comes with ``lengths (B,)``
for right padding: steps ``t >= lengths[b]`` are padding and never influence a result at a real step
(``lengths=None`` means every sequence fills all ``T`` steps).

* Pooling is pure functions of ``outputs (B, T, F)`` and ``lengths`` (:func:`last_pool`,
  :func:`mean_pool`, :func:`max_pool`, :func:`attention_pool`); :class:`SequencePooling` wraps them.
* :class:`RecurrentEncoder` (embedding -> ``lstmkit.LSTM``/``GRU``/``RNN``) is the shared submodule
  ``encoder`` of :class:`SequenceClassifier`, :class:`SequenceTagger` and :class:`LanguageModel`, with
  the same parameter names in all three, so a pretrained language model's encoder loads into a
  classifier: ``classifier.encoder.load_state_dict(lm.encoder.state_dict())`` (ULMFiT, Howard & Ruder 2018).
* :func:`parameter_groups` (discriminative learning rates), :func:`freeze_encoder_layers` and the
  per-epoch hook :func:`gradual_unfreezing` (gradual unfreezing) work on any of the three models.
* Configs are frozen dataclasses with ``to_dict``/``from_dict`` for JSON.

Modules: ``pooling`` (masks and pooling), ``losses``, ``config``, ``encoder``, ``crf`` (linear-chain CRF for
the tagger), ``adaptive_softmax`` (a language model's output layer, ``LanguageModelConfig(softmax="adaptive")``),
``char_encoder`` (a word read through its characters, for the tagger), ``models``, ``stream_lm`` (language
models over a token stream), ``finetune``.
"""

from lstmkit.heads.adaptive_softmax import AdaptiveSoftmax
from lstmkit.heads.char_encoder import CharWordEncoder
from lstmkit.heads.config import (
    CELLS,
    CHAR_ENCODERS,
    DECODERS,
    LM_SOFTMAXES,
    CharEncoderConfig,
    ClassifierConfig,
    EncoderConfig,
    LanguageModelConfig,
    TaggerConfig,
)
from lstmkit.heads.crf import CRF
from lstmkit.heads.encoder import RecurrentEncoder, make_recurrent_layer
from lstmkit.heads.ensembles import ClassifierEnsemble, ForwardBackwardClassifier
from lstmkit.heads.finetune import freeze_encoder_layers, gradual_unfreezing, parameter_groups
from lstmkit.heads.losses import lm_loss, masked_cross_entropy
from lstmkit.heads.models import (
    BidirectionalLanguageModel,
    LanguageModel,
    SequenceClassifier,
    SequenceTagger,
    bidirectional_lm_loss,
)
from lstmkit.heads.pooling import (
    POOLING_MODES,
    SequencePooling,
    attention_pool,
    last_pool,
    mask_from_lengths,
    max_pool,
    mean_pool,
)
from lstmkit.heads.stream_lm import StreamLanguageModel

__all__ = [
    "BidirectionalLanguageModel",
    "bidirectional_lm_loss",
    "CELLS",
    "DECODERS",
    "LM_SOFTMAXES",
    "POOLING_MODES",
    "mask_from_lengths",
    "last_pool",
    "mean_pool",
    "max_pool",
    "attention_pool",
    "masked_cross_entropy",
    "lm_loss",
    "SequencePooling",
    "make_recurrent_layer",
    "EncoderConfig",
    "RecurrentEncoder",
    "ClassifierConfig",
    "SequenceClassifier",
    "ForwardBackwardClassifier",
    "ClassifierEnsemble",
    "TaggerConfig",
    "SequenceTagger",
    "CHAR_ENCODERS",
    "CharEncoderConfig",
    "CharWordEncoder",
    "CRF",
    "LanguageModelConfig",
    "LanguageModel",
    "AdaptiveSoftmax",
    "StreamLanguageModel",
    "parameter_groups",
    "freeze_encoder_layers",
    "gradual_unfreezing",
]
