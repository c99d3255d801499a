"""Task models over :class:`RecurrentEncoder`: sequence classifier, per-step tagger, language model."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from lstmkit.functional import reverse_padded
from lstmkit.heads._checks import Lengths, as_lengths
from lstmkit.heads.adaptive_softmax import AdaptiveSoftmax
from lstmkit.heads.char_encoder import CharWordEncoder
from lstmkit.heads.config import ClassifierConfig, EncoderConfig, LanguageModelConfig, TaggerConfig
from lstmkit.heads.crf import CRF
from lstmkit.heads.encoder import RecurrentEncoder, SequenceDropout, embed_with_dropout
from lstmkit.heads.losses import lm_loss, masked_cross_entropy
from lstmkit.heads.ngrams import NgramBag
from lstmkit.heads.pooling import SequencePooling
from lstmkit.layers import State

__all__ = [
    "SequenceClassifier",
    "SequenceTagger",
    "LanguageModel",
    "BidirectionalLanguageModel",
    "bidirectional_lm_loss",
]


def embed_step_ids(
    argument: str, embedding: nn.Embedding | None, ids: Tensor | None, tokens: Tensor, dim_name: str, p: float
) -> Tensor | None:
    """``ids (B, T)`` (one per step of ``tokens``, e.g. character-bigram ids) through a model's second
    ``embedding`` with whole-entry dropout ``p`` -> ``(B, T, dim)``; ``None`` for a model without that
    embedding, which must then be given no ids (``argument``, ``dim_name`` name them in the errors)."""
    if embedding is None and ids is None:
        return None
    if embedding is None:
        raise ValueError(
            f"{argument}: this model has no {argument} embedding ({dim_name}=0 in its config), so pass {argument}=None"
        )
    if not isinstance(ids, Tensor) or ids.shape != tokens.shape:
        given = tuple(ids.shape) if isinstance(ids, Tensor) else ids
        raise ValueError(f"{argument} must be ids shaped like tokens {tuple(tokens.shape)}, got {given}")
    return embed_with_dropout(embedding, ids, p)


def step_embeddings(tokens: Tensor, entries) -> list[Tensor]:
    """The embeddings of each given per-step id input beside ``tokens``: ``entries`` are ``(argument,
    embedding, ids, dim_name, p)`` as :func:`embed_step_ids` takes them; inputs a model lacks are left out."""
    return [
        embedded
        for argument, embedding, ids, dim, p in entries
        if (embedded := embed_step_ids(argument, embedding, ids, tokens, dim, p)) is not None
    ]


class SequenceClassifier(nn.Module):
    """One label per sequence: encoder -> :class:`SequencePooling` -> dropout -> ``Linear`` -> ``(B, C)`` logits.

    With a bigram embedding (``config.bigram_dim > 0``, submodule ``bigram_embedding``) ``forward`` also
    needs ``bigrams (B, T)``, each step's character-bigram id, embedded with the encoder's embedding
    dropout and concatenated after the token embedding (as :class:`SequenceTagger` does). Likewise
    ``lexicon (B, T)`` with a lexicon embedding (``config.lexicon_dim > 0``, ``lexicon_embedding``): each
    step's lexicon class id, concatenated after the bigram's.
    """

    def __init__(self, config: ClassifierConfig) -> None:
        super().__init__()
        self.config = config
        self.encoder = RecurrentEncoder(config.encoder, extra_input_size=config.bigram_dim + config.lexicon_dim)
        padding_idx = config.encoder.padding_idx
        self.bigram_embedding = None
        if config.bigram_dim:
            self.bigram_embedding = nn.Embedding(config.bigram_vocab_size, config.bigram_dim, padding_idx=padding_idx)
        self.lexicon_embedding = None
        if config.lexicon_dim:
            self.lexicon_embedding = nn.Embedding(config.lexicon_classes, config.lexicon_dim, padding_idx=padding_idx)
        self.pooling = SequencePooling(
            config.pooling,
            self.encoder.output_size,
            num_directions=config.encoder.num_directions,
            attention_size=config.attention_size,
        )
        self.dropout = nn.Dropout(config.dropout)
        self.output = nn.Linear(self.pooling.output_size, config.num_classes)
        # The wide part of a wide-and-deep model: one logit vector per hashed n-gram, averaged.
        self.ngrams = None
        if config.ngram_buckets:
            self.ngrams = NgramBag(config.ngram_buckets, config.num_classes, config.ngram_orders)

    def forward(
        self,
        tokens: Tensor,
        lengths: Lengths = None,
        perturbation: Tensor | None = None,
        bigrams: Tensor | None = None,
        lexicon: Tensor | None = None,
    ) -> Tensor:
        """``tokens (B, T)`` long, ``lengths (B,)``, ``bigrams (B, T)``, ``lexicon (B, T)`` long ->
        ``logits (B, num_classes)``; ``perturbation (B, T, embedding_dim)`` is added to the embedded tokens
        (adversarial training)."""
        extra = self._embed_steps(tokens, bigrams, lexicon)
        outputs, _ = self.encoder(tokens, lengths, extra=extra, perturbation=perturbation)
        logits = self.output(self.dropout(self.pooling(outputs, lengths)))
        if self.ngrams is not None:
            lengths = as_lengths(lengths, tokens.shape[0], tokens.shape[1], tokens.device)
            logits = logits + self.ngrams(tokens, lengths)
        return logits

    def recurrent_input(
        self,
        tokens: Tensor,
        bigrams: Tensor | None = None,
        perturbation: Tensor | None = None,
        lexicon: Tensor | None = None,
    ) -> Tensor:
        """What the recurrent stack reads: ``(B, T, input_size)``, each step's token embedding (plus
        ``perturbation``) and, with a bigram or lexicon embedding, its bigram's and lexicon class's
        (:meth:`RecurrentEncoder.embed`)."""
        return self.encoder.embed(tokens, self._embed_steps(tokens, bigrams, lexicon), perturbation)

    def _embed_steps(self, tokens: Tensor, bigrams: Tensor | None, lexicon: Tensor | None) -> Tensor | None:
        """The bigram and lexicon embeddings of each step, concatenated (``None`` for a model with neither).
        Both take the encoder's whole-entry embedding dropout: for the few lexicon classes that drops a class
        from a whole batch now and then, which is how its measured runs were trained (docs/sentiment.md)."""
        p = self.config.encoder.embedding_dropout
        extras = step_embeddings(
            tokens,
            (
                ("bigrams", self.bigram_embedding, bigrams, "bigram_dim", p),
                ("lexicon", self.lexicon_embedding, lexicon, "lexicon_dim", p),
            ),
        )
        return torch.cat(extras, dim=2) if extras else None


class SequenceTagger(nn.Module):
    """One label per step: encoder -> dropout -> ``Linear`` -> ``(B, T, C)`` emission scores, then a decoder.

    ``config.decoder == "crf"``: a :class:`CRF` (submodule ``crf``, built with the config's transition
    constraints) scores whole tag paths; :meth:`loss` is the mean negative log-likelihood per sequence
    and :meth:`decode` is Viterbi. ``"softmax"`` (``crf`` is ``None``): the loss is the mean per-step
    cross-entropy over real steps and decoding takes each step's argmax. With a bigram embedding
    (``config.bigram_dim > 0``) every method also needs ``bigrams (B, T)``, the id of each step's
    character bigram; it lives in ``bigram_embedding``, outside the encoder, so :func:`parameter_groups`
    counts it with the head. With a character encoder (``config.chars``) every method also needs ``chars
    (B, T, W)``, each word's character ids (:class:`~lstmkit.heads.char_encoder.CharWordEncoder`,
    submodule ``char_encoder``), its vector concatenated after the bigram embedding.
    Likewise ``dictionary (B, T)`` with a dictionary embedding (``config.dictionary_dim > 0``,
    ``dictionary_embedding``): each step's dictionary pattern id, embedded after the bigram.
    """

    def __init__(self, config: TaggerConfig) -> None:
        super().__init__()
        self.config = config
        self.char_encoder = None if config.chars is None else CharWordEncoder(config.chars)
        char_size = 0 if self.char_encoder is None else self.char_encoder.output_size
        extra_size = config.bigram_dim + config.dictionary_dim + char_size
        self.encoder = RecurrentEncoder(config.encoder, extra_input_size=extra_size)
        padding_idx = config.encoder.padding_idx
        self.bigram_embedding = None
        if config.bigram_dim:
            self.bigram_embedding = nn.Embedding(config.bigram_vocab_size, config.bigram_dim, padding_idx=padding_idx)
        self.dictionary_embedding = None
        if config.dictionary_dim:
            self.dictionary_embedding = nn.Embedding(
                config.dictionary_patterns, config.dictionary_dim, padding_idx=padding_idx
            )
        self.dropout = SequenceDropout(config.dropout, config.encoder.dropout_kind)
        self.output = nn.Linear(self.encoder.output_size, config.num_tags)
        self.crf = None
        if config.decoder == "crf":
            masks = [
                None if value is None else torch.tensor(value, dtype=torch.bool)
                for value in (config.allowed_transitions, config.allowed_start, config.allowed_end)
            ]
            self.crf = CRF(config.num_tags, *masks)

    def forward(
        self,
        tokens: Tensor,
        lengths: Lengths = None,
        bigrams: Tensor | None = None,
        chars: Tensor | None = None,
        dictionary: Tensor | None = None,
    ) -> Tensor:
        """``tokens (B, T)`` long, ``lengths (B,)``, ``bigrams (B, T)`` long, ``chars (B, T, W)`` long,
        ``dictionary (B, T)`` long ->
        emissions ``(B, T, num_tags)``.

        Emissions at padded steps are meaningless; :meth:`loss` and :meth:`decode` never read them.
        """
        # (Dictionary patterns are few and each one frequent: whole-entry dropout is for the sparse tables.)
        extras = step_embeddings(
            tokens,
            (
                ("bigrams", self.bigram_embedding, bigrams, "bigram_dim", self.config.encoder.embedding_dropout),
                ("dictionary", self.dictionary_embedding, dictionary, "dictionary_dim", 0.0),
            ),
        )
        if self.char_encoder is not None or chars is not None:
            if self.char_encoder is None:
                raise ValueError(
                    "chars: this tagger has no character encoder (chars=None in its config), so pass chars=None"
                )
            if not isinstance(chars, Tensor) or chars.dim() != 3 or chars.shape[:2] != tokens.shape:
                given = tuple(chars.shape) if isinstance(chars, Tensor) else chars
                raise ValueError(
                    f"chars must be ids shaped (*tokens.shape, word length) = {tuple(tokens.shape)} + (W,), got {given}"
                )
            extras.append(self.char_encoder(chars))
        outputs, _ = self.encoder(tokens, lengths, extra=torch.cat(extras, dim=2) if extras else None)
        return self.output(self.dropout(outputs))

    def loss(
        self,
        tokens: Tensor,
        lengths: Lengths,
        tags: Tensor,
        bigrams: Tensor | None = None,
        chars: Tensor | None = None,
        dictionary: Tensor | None = None,
    ) -> Tensor:
        """Scalar training loss for gold ``tags (B, T)``; tags at padded steps are ignored whatever their value."""
        return self.emission_loss(self(tokens, lengths, bigrams, chars, dictionary), lengths, tags)

    @torch.no_grad()
    def decode(
        self,
        tokens: Tensor,
        lengths: Lengths = None,
        bigrams: Tensor | None = None,
        chars: Tensor | None = None,
        dictionary: Tensor | None = None,
    ) -> list[list[int]]:
        """Predicted tag ids, one list of ``lengths[b]`` ids per sequence (call ``.eval()`` first for inference)."""
        return self.decode_emissions(self(tokens, lengths, bigrams, chars, dictionary), lengths)

    # The two halves below let a caller that needs both the loss and the tags (validation) run the
    # encoder once: emissions = model(tokens, lengths, bigrams), then each of them.
    def emission_loss(self, emissions: Tensor, lengths: Lengths, tags: Tensor) -> Tensor:
        """:meth:`loss` from ``emissions (B, T, num_tags)`` already computed by :meth:`forward`."""
        if self.crf is None:
            return masked_cross_entropy(emissions, tags, lengths)
        return -self.crf.log_likelihood(emissions, tags, lengths).mean()

    @torch.no_grad()
    def decode_emissions(self, emissions: Tensor, lengths: Lengths = None) -> list[list[int]]:
        """:meth:`decode` from ``emissions (B, T, num_tags)`` already computed by :meth:`forward`."""
        if self.crf is not None:
            return self.crf.decode(emissions, lengths)
        lengths = as_lengths(lengths, emissions.shape[0], emissions.shape[1], emissions.device)
        rows = emissions.argmax(dim=2).tolist()
        return [row[:length] for row, length in zip(rows, lengths.tolist())]


class LanguageModel(nn.Module):
    """Next-token model (word or character): unidirectional encoder -> dropout -> vocabulary logits.

    Stateful use: feed the returned state back as ``state`` for the next chunk (wrap it in
    :func:`lstmkit.detach_state` to truncate backpropagation there), or one token at a time to sample.
    With ``tie_weights`` the output layer reads ``encoder.embedding.weight`` directly instead of holding
    a second name for it, so the state dict has no aliased tensors (safetensors refuses those);
    ``decoder_weight`` is then ``None`` and only ``decoder_bias`` is the head's own.
    With ``config.softmax == "adaptive"`` the output layer is ``adaptive`` (an :class:`AdaptiveSoftmax`,
    its shortlist tied to the embedding with ``tie_weights``) and ``decoder_weight``/``decoder_bias`` are
    ``None``; :meth:`logits` then gives normalised log-probabilities (a softmax of them is the model's
    distribution, as of any logits) and :meth:`target_log_probs` scores targets without them.
    """

    def __init__(self, config: LanguageModelConfig) -> None:
        super().__init__()
        self.config = config
        self.encoder = RecurrentEncoder(config.encoder)
        self.dropout = SequenceDropout(config.dropout, config.encoder.dropout_kind)
        vocab_size, hidden_size = config.encoder.vocab_size, config.encoder.hidden_size
        self.adaptive = None
        if config.softmax == "adaptive":
            self.adaptive = AdaptiveSoftmax(hidden_size, vocab_size, config.cutoffs, tied_shortlist=config.tie_weights)
            self.register_parameter("decoder_weight", None)
            self.register_parameter("decoder_bias", None)
            return
        if config.tie_weights:
            self.register_parameter("decoder_weight", None)
        else:
            bound = 1 / math.sqrt(hidden_size)  # nn.Linear's default range
            self.decoder_weight = nn.Parameter(torch.empty(vocab_size, hidden_size).uniform_(-bound, bound))
        self.decoder_bias = nn.Parameter(torch.zeros(vocab_size))

    def forward(self, tokens: Tensor, lengths: Lengths = None, state: State | None = None) -> tuple[Tensor, State]:
        """``tokens (B, T)`` long, ``lengths (B,)``, optional carried state -> ``logits (B, T, V)``, state."""
        outputs, state = self.encoder(tokens, lengths, state)
        return self.logits(outputs), state

    def logits(self, outputs: Tensor) -> Tensor:
        """The head alone: encoder outputs ``(B, T, H)`` -> vocabulary logits ``(B, T, V)`` (after dropout; in
        evaluation any ``(..., H)``, e.g. one streamed step ``(B, H)``)."""
        if self.adaptive is not None:
            return self.adaptive.log_prob(self.dropout(outputs), self._tied_rows())
        weight = self.encoder.embedding.weight if self.decoder_weight is None else self.decoder_weight
        return F.linear(self.dropout(outputs), weight, self.decoder_bias)

    def target_log_probs(self, tokens: Tensor, targets: Tensor, state: State | None = None) -> tuple[Tensor, State]:
        """``tokens (B, T)``, the token each step predicts ``targets (B, T)``, optional carried state ->
        ``log p(targets) (B, T)`` and the state; with the adaptive softmax only the targets' clusters are scored."""
        outputs, state = self.encoder(tokens, None, state)
        if self.adaptive is not None:
            return self.adaptive.target_log_prob(self.dropout(outputs), targets, self._tied_rows()), state
        logits = self.logits(outputs)
        return -F.cross_entropy(logits.flatten(0, 1), targets.flatten(), reduction="none").view(targets.shape), state

    def _tied_rows(self) -> Tensor | None:
        return self.encoder.embedding.weight if self.config.tie_weights else None


class BidirectionalLanguageModel(nn.Module):
    """Pretraining head for a bidirectional encoder (ELMo-style, Peters et al. 2018).

    The forward half of the encoder's outputs predicts the next token, the backward half the previous
    one; neither half ever sees the token it predicts. This lets a BiLSTM classifier start from a
    pretrained encoder, where :class:`LanguageModel` needs a unidirectional one.
    """

    def __init__(self, encoder: EncoderConfig, dropout: float = 0.3) -> None:
        super().__init__()
        if not encoder.bidirectional:
            raise ValueError("BidirectionalLanguageModel needs a bidirectional encoder; use LanguageModel")
        self.encoder = RecurrentEncoder(encoder)
        self.dropout = SequenceDropout(dropout, encoder.dropout_kind)
        self.forward_decoder = nn.Linear(encoder.hidden_size, encoder.vocab_size)
        self.backward_decoder = nn.Linear(encoder.hidden_size, encoder.vocab_size)

    def forward(self, tokens: Tensor, lengths: Lengths = None) -> tuple[Tensor, Tensor]:
        """``tokens (B, T)`` -> ``(next-token logits, previous-token logits)``, each ``(B, T, V)``."""
        outputs, _ = self.encoder(tokens, lengths)
        forward_half, backward_half = self.dropout(outputs).chunk(2, dim=-1)
        return self.forward_decoder(forward_half), self.backward_decoder(backward_half)


def bidirectional_lm_loss(logits: tuple[Tensor, Tensor], tokens: Tensor, lengths: Lengths) -> Tensor:
    """Mean of the next-token loss of the forward half and the previous-token loss of the backward half.

    Reversing each sequence within its length turns "position t predicts t - 1" into "t predicts
    t + 1", so both halves share :func:`lm_loss`.
    """
    forward_logits, backward_logits = logits
    lengths = torch.as_tensor(
        lengths if lengths is not None else [tokens.shape[1]] * tokens.shape[0], device=tokens.device
    )

    def flip(t: Tensor) -> Tensor:
        return reverse_padded(t.transpose(0, 1), lengths).transpose(0, 1)

    backward = lm_loss(flip(backward_logits), flip(tokens), lengths)
    return 0.5 * (lm_loss(forward_logits, tokens, lengths) + backward)
