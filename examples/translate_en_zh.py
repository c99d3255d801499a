"""English -> Chinese translation with the Python API: train an attention encoder-decoder, translate.

Trains an LSTM encoder-decoder with Luong's general attention on English<TAB>Chinese sentence pairs,
prints its test BLEU and chrF (greedy and beam search) from ``metrics.json``, then translates a few
English sentences with beam search, showing the best two hypotheses of each. The run lands in
``OUT/run``, with ``attention.png`` (the attention weights of the first test sentence).

``--data`` is a registered data set or a TSV file of ``english<TAB>chinese[<TAB>attribution]`` lines.
The default, ``tatoeba-cmn`` (~29k Tatoeba pairs, CC-BY 2.0 France), is downloaded once from
manythings.org into the cache (``$LSTMKIT_CACHE``, default ``~/.cache/lstmkit``); without a network
the script stops with a one-line error. For development, ``../shared/data/tatoeba-cmn-eng/cmn.txt``
(beside the repository) holds a local copy of the Tatoeba pairs (26,388):

    python examples/translate_en_zh.py --out runs/examples/en-zh
    python examples/translate_en_zh.py --data ../shared/data/tatoeba-cmn-eng/cmn.txt --out runs/examples/en-zh
    python examples/translate_en_zh.py --smoke --data pairs.tsv --out /tmp/translate-smoke

The settings are the en->zh attention row of docs/translate.md (17.6 BLEU with beam 5). Time on 2
CPU cores: not measured here; docs/translate.md reports 35-45 minutes per run on one thread.
``--smoke`` (at most 300 pairs, a tiny model, one epoch) exists only so the tests can prove the
script runs: about 8 s.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path

from lstmkit.errors import LstmkitError
from lstmkit.tasks import translate

SENTENCES = ["I love you.", "Where is the station?", "Tom is reading a book in the library."]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="tatoeba-cmn", help="tatoeba-cmn (downloads) or an English<TAB>Chinese TSV.")
    parser.add_argument("--out", type=Path, default=Path("runs/examples/en-zh"), help="Folder for the run.")
    parser.add_argument("--beam", type=int, default=5, help="Beam size for the example sentences.")
    parser.add_argument("--smoke", action="store_true", help="Tiny and fast, for tests only.")
    args = parser.parse_args()
    config = translate.TranslateConfig(  # the en->zh attention row of docs/translate.md
        data=args.data,
        src="en",
        tgt="zh",
        attention="general",
        input_feeding=False,
        embedding_dim=128,
        hidden_size=256,
        dropout=0.3,
        train=replace(translate.TranslateConfig().train, epochs=6, batch_size=128, lr=3e-3),
    )
    if args.smoke:
        train = replace(config.train, epochs=1, batch_size=32, progress=False)
        config = replace(config, max_pairs=300, min_freq=1, embedding_dim=16, hidden_size=32, beam_size=2, train=train)
    run = args.out / "run"
    try:
        translate.train(config, run, force=True)
        translations = translate.load(run).translate(SENTENCES, beam_size=args.beam, n_best=min(2, args.beam))
    except LstmkitError as exc:
        hint = "" if Path(args.data).is_file() else " (or pass --data with an English<TAB>Chinese TSV file)"
        sys.exit(f"error: {exc}{hint}")
    metrics = json.loads((run / "metrics.json").read_text(encoding="utf-8"))
    data, model = metrics["data"], metrics["model"]
    print(f"\n{data['name']} en->zh: {data['train']} training pairs, {data['test']} test pairs")
    for decoding in ("greedy", "beam"):
        print(f"  {decoding:<6} BLEU {model[decoding]['bleu']:5.1f}   chrF {model[decoding]['chrf']:5.1f}")
    print(f"\nbeam search ({args.beam}), best two hypotheses with their mean log-probability per token:")
    for t in translations:
        print(f"  {t.text}\n    {t.score:7.3f}  {t.translation}")
        for alternative, score in t.alternatives:
            print(f"    {score:7.3f}  {alternative}")


if __name__ == "__main__":
    main()
