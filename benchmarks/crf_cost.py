"""What the CRF adds to a tagger's training step: CRF loss + backward against the softmax loss and the
BiLSTM encoder underneath, for growing tag sets (4: BMES; ~40: a POS tag set; ~160: joint BMES x POS).

    OMP_NUM_THREADS=1 python benchmarks/crf_cost.py --batch 64 --steps 50 --tags 4,40,160

Prints a Markdown table of median milliseconds per forward+backward and the CRF's cost as a
fraction of the encoder's (timings depend on the machine; the ratios are what carry over).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import torch

from lstmkit.heads import CRF, EncoderConfig, RecurrentEncoder, masked_cross_entropy


def median_ms(step: Callable[[], None], repeats: int) -> float:
    step()  # warm-up: allocations and lazy initialisation
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return 1e3 * statistics.median(times)


def loss_ms(num_tags: int, lengths: torch.Tensor, steps: int, repeats: int) -> tuple[float, float]:
    """Median ms of the CRF's and of the softmax's loss + backward over random emissions ``(B, steps, num_tags)``."""
    crf = CRF(num_tags)
    emissions = torch.randn(len(lengths), steps, num_tags, requires_grad=True)
    tags = torch.randint(0, num_tags, (len(lengths), steps))

    def crf_step() -> None:
        crf.zero_grad()
        emissions.grad = None
        (-crf.log_likelihood(emissions, tags, lengths).mean()).backward()

    def softmax_step() -> None:
        emissions.grad = None
        masked_cross_entropy(emissions, tags, lengths).backward()

    return median_ms(crf_step, repeats), median_ms(softmax_step, repeats)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--tags", default="4,40,160")
    parser.add_argument("--hidden", type=int, default=128, help="encoder hidden size per direction")
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args()
    torch.manual_seed(0)
    lengths = torch.randint(args.steps // 2, args.steps + 1, (args.batch,))
    lengths[0] = args.steps
    encoder = RecurrentEncoder(EncoderConfig(vocab_size=5000, embedding_dim=args.hidden, hidden_size=args.hidden))
    tokens = torch.randint(1, 5000, (args.batch, args.steps))

    def encoder_step() -> None:
        encoder.zero_grad()
        encoder(tokens, lengths)[0].sum().backward()

    encoder_ms = median_ms(encoder_step, args.repeats)
    print(f"BiLSTM encoder (hidden {args.hidden}), batch {args.batch} x {args.steps} steps: {encoder_ms:.1f} ms\n")
    print("| tags | CRF ms | softmax ms | CRF / encoder | CRF / softmax |")
    print("|---:|---:|---:|---:|---:|")
    for num_tags in (int(k) for k in args.tags.split(",")):
        crf_ms, softmax_ms = loss_ms(num_tags, lengths, args.steps, args.repeats)
        print(
            f"| {num_tags} | {crf_ms:.1f} | {softmax_ms:.2f} | {crf_ms / encoder_ms:.2f} | {crf_ms / softmax_ms:.0f} |"
        )


if __name__ == "__main__":
    main()
