"""The configuration of a sequence-tagging run, saved as its ``config.json``."""

from __future__ import annotations

from dataclasses import dataclass, field

from lstmkit.train.config import TaskConfig, TrainConfig

__all__ = ["TagConfig", "NAME", "SCHEME_CHOICES", "REGISTERED_SCHEME", "CHAR_ENCODER_CHOICES", "DICTIONARY_DIM"]

NAME = "tag"
SCHEME_CHOICES = ("auto", "bmes", "bio", "bioes", "plain")
REGISTERED_SCHEME = "bmes"  # the scheme pku-seg and pku-pos are tagged in
CHAR_ENCODER_CHOICES = ("auto", "lstm", "cnn", "none")  # TagConfig.char_encoder
DICTIONARY_DIM = 16  # the dictionary pattern's embedding: a few hundred patterns, far fewer than characters


@dataclass(frozen=True)
class TagConfig(TaskConfig):
    """A tagging run. ``data`` is ``pku-seg`` (Chinese word segmentation), ``pku-pos`` (joint segmentation
    and part of speech) or a tagged file (``.conllu``, ``.conll``/``.tsv``/``.bio``/``.iob``, or
    ``token/TAG`` lines); ``token_column``/``tag_column`` choose a CoNLL file's columns (a number, or a
    CoNLL-U name such as FORM, UPOS; "" the format's default: FORM/UPOS, first/last).

    ``scheme`` is the tags' scheme, checked on every sentence: ``auto`` takes the narrowest that fits
    (bio, bioes, bmes, else plain labels). ``max_sentences`` keeps only the first sentences (for quick
    runs; the split is taken after). Training sentences longer than ``max_length`` tokens are cut into
    pieces, at punctuation where a word ends; tagging and scoring read sentences of any length whole.

    ``decoder`` ``crf`` scores whole tag sequences (a linear-chain CRF, constrained to the sequences the
    scheme allows, decoded by Viterbi); ``softmax`` picks each step's likeliest tag on its own (the
    ablation). ``bigrams`` adds an embedding of each character's bigram (it and the next character),
    of ``embedding_dim`` dimensions: ``None`` (the default) for character data and not for word data,
    ``True`` always (word data is refused), ``False`` never; :meth:`uses_bigrams` resolves it. Bigrams
    seen fewer than ``bigram_min_freq`` times in training read as unknown, so the unknown bigram's vector
    is learnt from the rare ones and stands for the unseen ones at test time.
    ``char_encoder`` reads each word through its characters (word data: CoNLL files, token/TAG lines),
    its vector concatenated to the word's embedding, so that a word unseen in training still has one:
    ``lstm`` a BiLSTM of ``char_hidden`` units per direction over ``char_dim``-dimensional character
    embeddings, its final states concatenated (Lample et al. 2016); ``cnn`` ``char_hidden`` filters over
    3 characters, max-pooled (Ma & Hovy 2016); ``none``; ``auto`` (the default) ``lstm`` on word data and
    ``none`` on character data, where a token is one character; :meth:`char_encoder_kind` resolves it.
    ``dictionary`` adds the dictionary features of Zhang et al. (AAAI 2018), from the training part's
    words only: for each character, which words of 2..4 characters start, end or pass through it, one
    pattern id embedded in ``DICTIONARY_DIM`` dimensions (character data only). The dictionary keeps the
    words seen at least ``dictionary_min_freq`` times: with 2, the training words seen once are missing
    from it as unseen words are at test time, so the network also learns what to do where it is silent.
    ``embedding_dropout`` drops whole characters (and bigrams) in training: every occurrence of a dropped
    one in the batch reads a zero vector, so the network learns to segment from the context too.
    ``input_dropout`` drops single elements of the recurrent encoder's input (the character, bigram and
    dictionary embeddings of each step), so no one feature is trusted alone.
    ``baselines`` also scores the non-neural baselines on the same test part (maximum matching and a
    character CRF for segmentation, the most frequent tag per word for POS and user data).
    """

    data: str = "pku-seg"
    scheme: str = "auto"
    token_column: str = ""
    tag_column: str = ""
    max_sentences: int | None = None
    max_length: int = 150
    min_freq: int = 1
    bigram_min_freq: int = 2
    cell: str = "lstm"
    embedding_dim: int = 64
    hidden_size: int = 128
    num_layers: int = 1
    bidirectional: bool = True
    dropout: float = 0.2
    embedding_dropout: float = 0.0
    input_dropout: float = 0.0
    decoder: str = "crf"
    bigrams: bool | None = None
    char_encoder: str = "auto"
    char_dim: int = 25
    char_hidden: int = 25
    dictionary: bool = False
    dictionary_min_freq: int = 1
    baselines: bool = True
    train: TrainConfig = field(
        default_factory=lambda: TrainConfig(epochs=5, batch_size=32, lr=3e-3, patience=2, monitor="accuracy")
    )

    def uses_bigrams(self, characters: bool) -> bool:
        """Whether a run on data of ``characters`` (Chinese text) or words embeds bigrams."""
        return characters if self.bigrams is None else self.bigrams

    def char_encoder_kind(self, characters: bool) -> str:
        """The character encoder (``lstm``, ``cnn`` or ``none``) of a run on character (Chinese) or word data."""
        if self.char_encoder == "auto":
            return "none" if characters else "lstm"
        return self.char_encoder

    def __post_init__(self) -> None:
        from lstmkit.heads._checks import check_choice, check_positive_int, check_probability
        from lstmkit.heads.config import CELLS, DECODERS

        # ValueError, each message starting with the field's name: the CLI names the option from it.
        for name in (
            "max_length",
            "min_freq",
            "bigram_min_freq",
            "dictionary_min_freq",
            "embedding_dim",
            "hidden_size",
            "num_layers",
            "char_dim",
            "char_hidden",
        ):
            check_positive_int(name, getattr(self, name))
        if self.max_sentences is not None:
            check_positive_int("max_sentences", self.max_sentences)
        check_probability("dropout", self.dropout)
        check_probability("embedding_dropout", self.embedding_dropout)
        check_probability("input_dropout", self.input_dropout)
        check_choice("cell", self.cell, tuple(CELLS))
        check_choice("decoder", self.decoder, DECODERS)
        check_choice("scheme", self.scheme, SCHEME_CHOICES)
        check_choice("char_encoder", self.char_encoder, CHAR_ENCODER_CHOICES)
        if not self.data.strip():
            raise ValueError(f"data must name a data set or a file, got {self.data!r}")
