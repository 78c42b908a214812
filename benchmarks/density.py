"""Time to compute one 200 x 200 log-density heat map, per shipped 2-D model, as the page does.

    python benchmarks/density.py [--repeats 5]

Target: at most 0.5 s for one model's map on this machine. The VAE's map is an importance-
sampled estimate (k = 16) on 100 x 100 cells, as the page draws it; the GAN's is a KDE of
2,000 of its samples. Prints a table of medians.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from inference import density  # noqa: E402
from inference.ganlab import load_lab_card  # noqa: E402
from inference.toy import TOYS  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    card = density.load_density_card()
    lab_card = load_lab_card()
    print(f"# 200 x 200 heat map, {platform.machine()}, {os.cpu_count()} cores\n")
    print(
        "| data | true density | "
        + " | ".join(["mixture", "flow", "autoregressive", "vae (100x100, k=16)", "gan (KDE)"])
        + " |"
    )
    print("|---" * 7 + "|")
    for dataset in card.datasets_2d:
        models, _ = density.load_trained(dataset, card, lab_card)
        cells = []

        def timed(fn, n=200):
            times = []
            for _ in range(args.repeats):
                t = time.perf_counter()
                density.grid_log_density(fn, n)
                times.append(time.perf_counter() - t)
            return f"{statistics.median(times):.3f} s"

        cells.append(timed(TOYS[dataset].log_density))
        for kind in ("mixture", "flow", "autoregressive"):
            cells.append(timed(models[kind].log_prob) if kind in models else "")
        cells.append(timed(lambda x: models["vae"].log_prob(x, k=16), 100) if "vae" in models else "")
        if "gan" in models:
            samples = models["gan"].sample(2000)
            bw = density.scott_bandwidth(samples)
            cells.append(timed(lambda x: density.kde_log_density(samples, x, bw)))
        else:
            cells.append("")
        print(f"| {dataset} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
