"""Why an LSTM: how far back the gradient reaches, and what that means for a task with long memory.

Left panel (``gradient_study``): the gradient norm of a last-step loss with respect to each earlier
input, against the lag, for a tanh RNN, a GRU and an LSTM at initialisation (T = 200). Right panel
(``train_memory``): the three cells trained on the adding problem (the sum of two marked values among
``--length`` steps; always answering 1 scores MSE 0.167), validation MSE against updates. The screen
gets the numbers, ``OUT/why_lstm.png`` the figure.

``--lstm-init``: ``chrono`` (default; forget-gate biases spread up to the sequence length),
``forget-bias`` (bias 1) or ``torch`` (forget gates near 0.5: the gradient then vanishes as fast as
the RNN's). RNN and GRU keep torch's initialisation. At T = 50 the GRU solves the task too; the tanh
RNN stays at the baseline (docs/diagnostics.md goes up to T = 1000).

    python examples/why_lstm.py --out runs/examples/why-lstm
    python examples/why_lstm.py --lstm-init torch --out runs/examples/why-lstm-torch
    python examples/why_lstm.py --smoke --out /tmp/why-lstm-smoke

Time on 2 CPU cores (one thread, other jobs sharing the machine): the full run took 30 s.
``--smoke`` (short sequences, 8 units, 20 updates) exists only so the tests can prove the script runs:
about 6 s.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from lstmkit.diagnostics import GradientConfig, MemoryConfig, decay_lag, train_memory
from lstmkit.diagnostics.gradients import gradient_study
from lstmkit.plots import save, subplots  # no pyplot: a figure drawn straight to a file, no window

CELLS = ("rnn", "gru", "lstm")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("runs/examples/why-lstm"), help="Folder for why_lstm.png.")
    parser.add_argument("--length", type=int, default=50, help="Steps of the adding problem.")
    parser.add_argument("--steps", type=int, default=1000, help="Adam updates per cell on the adding problem.")
    parser.add_argument("--lstm-init", default="chrono", choices=("chrono", "forget-bias", "torch"), help="See below.")
    parser.add_argument("--smoke", action="store_true", help="Tiny and fast, for tests only.")
    args = parser.parse_args()
    probe = GradientConfig(length=200, hidden_size=64, train_steps=0, lstm_init=args.lstm_init)
    memory = MemoryConfig(hidden_size=64, steps=args.steps, eval_every=50, lstm_init=args.lstm_init)
    if args.smoke:
        args.length = 10
        probe = GradientConfig(length=30, hidden_size=8, batch_size=4, train_steps=0, lstm_init=args.lstm_init)
        memory = MemoryConfig(hidden_size=8, steps=20, eval_every=10, test_size=64, lstm_init=args.lstm_init)

    profiles = gradient_study(CELLS, probe)
    results = [train_memory("adding", cell, args.length, memory) for cell in CELLS]

    print(f"gradient at init (T = {probe.length}) | adding problem, T = {args.length}, at most {memory.steps} updates")
    print(f"{'cell':<6}{'< 1e-6 from lag':>16}{'norm at lag 20':>16} | {'test MSE':>9}{'updates':>8}  solved")
    for profile, r in zip(profiles, results):
        lag = decay_lag(profile.inputs)
        lag_text = str(lag) if lag is not None else f"> {probe.length - 1}"
        at_20 = profile.relative()[min(20, probe.length - 1)]
        print(f"{profile.cell:<6}{lag_text:>16}{at_20:>16.1e} | {r.error:>9.4f}{r.steps:>8}  {r.success}")
    print("(baseline: always answering 1 has test MSE 0.167; solved means test MSE < 0.01)")

    figure, (left, right) = subplots(1, 2, figsize=(11, 4))
    for profile, result in zip(profiles, results):
        left.semilogy(profile.relative(), label=profile.cell)
        right.plot(*zip(*result.curve), marker=".", label=result.cell)
    left.set(xlabel="lag (steps before the loss)", ylabel="gradient norm / norm at lag 0")
    left.set_title(f"gradient at initialisation, T = {probe.length}")
    right.axhline(1 / 6, color="grey", linestyle="--", label="always 1 (0.167)")
    right.set(xlabel="Adam updates", ylabel="validation MSE", title=f"adding problem, T = {args.length}")
    for axes in (left, right):
        axes.grid(alpha=0.3)
        axes.legend()
    print(f"figure: {save(figure, args.out / 'why_lstm.png')}")


if __name__ == "__main__":
    main()
