"""The long-memory table of docs/diagnostics.md: each cell trained at each length with the default budget.

    OMP_NUM_THREADS=1 python benchmarks/memory_table.py --task adding --cells rnn,lstm \
        --lengths 50,100,200,500,1000 --jobs 2 --out runs/memory_table

Each (cell, length) run is one process with one thread; ``--jobs`` run at a time. Every finished run
is appended to ``OUT/results_TASK.jsonl`` at once (an interrupted study keeps what it finished, and a
rerun skips those); at the end the script prints the Markdown table and draws ``OUT/memory_TASK.png``.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
from dataclasses import asdict
from pathlib import Path

import torch

from lstmkit.diagnostics.memory import TASKS, MemoryConfig, MemoryResult, plot_memory, train_memory


def _run(job: tuple[str, str, int, dict]) -> dict:
    task, cell, length, config = job
    torch.set_num_threads(1)
    return train_memory(task, cell, length, MemoryConfig(**config)).to_dict()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--task", default="adding", choices=sorted(TASKS))
    parser.add_argument("--cells", default="rnn,lstm")
    parser.add_argument("--lengths", default="50,100,200,500,1000")
    parser.add_argument("--steps", type=int, default=MemoryConfig.steps, help="budget in updates per run")
    parser.add_argument("--lstm-init", default=MemoryConfig.lstm_init)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--out", type=Path, default=Path("runs/memory_table"))
    args = parser.parse_args()

    config = asdict(MemoryConfig(steps=args.steps, lstm_init=args.lstm_init, seed=args.seed))
    args.out.mkdir(parents=True, exist_ok=True)
    log = args.out / f"results_{args.task}.jsonl"
    done = []
    if log.exists():
        done = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines() if line.strip()]
    finished = {(r["cell"], r["length"]) for r in done}
    jobs = [
        (args.task, cell, length, config)
        for length in sorted((int(n) for n in args.lengths.split(",")), reverse=True)  # longest first
        for cell in args.cells.split(",")
        if (cell, length) not in finished
    ]
    with multiprocessing.get_context("spawn").Pool(args.jobs) as pool:
        for result in pool.imap_unordered(_run, jobs):
            done.append(result)
            with open(log, "a", encoding="utf-8") as f:
                f.write(json.dumps(result) + "\n")
            print(
                f"{result['cell']} T={result['length']}: {result['error']:.4f} ({result['steps']} updates, "
                f"{result['seconds']:.0f} s)",
                flush=True,
            )

    spec = TASKS[args.task]
    print(f"\n{args.task}: {spec.criterion}; budget {args.steps} updates of {config['batch_size']} sequences\n")
    print(f"| cell | T | test {spec.error_name} | baseline | success | updates | seconds |")
    print("|---|---|---|---|---|---|---|")
    for r in sorted(done, key=lambda r: (r["cell"], r["length"])):
        print(
            f"| {r['cell']} | {r['length']} | {r['error']:.4f} | {r['baseline']:.3f} | "
            f"{'yes' if r['success'] else 'no'} | {r['steps']} | {r['seconds']:.0f} |"
        )
    plot_memory([MemoryResult(**r) for r in done], args.out / f"memory_{args.task}.png")


if __name__ == "__main__":
    main()
