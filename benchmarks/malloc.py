"""glibc's malloc as the app tunes it (`inference.runtime.tune_malloc`) against its defaults: the time of the app's
heaviest work, and the memory it leaves resident, in one process.

    python benchmarks/malloc.py [--repeats 3]

The tuning cannot be undone in a running process, so every workload runs once to warm up, then with glibc's
defaults, then tuned; each figure is the best of ``--repeats`` runs, and the table gives tuned / default. The work
runs in a thread of its own each time, as a Streamlit script run does (a new thread, which glibc may give a heap of
its own). Nothing passes or fails: it prints what it measured. Linux with glibc only.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from inference import load_model, load_test_digits, scan, views  # noqa: E402
from inference.metrics import nll_nats  # noqa: E402
from inference.probes import probes  # noqa: E402
from inference.runtime import release_free_memory, resident_mb, tune_malloc  # noqa: E402


def workloads(models: dict, digits) -> dict:
    """What the heavy pages do when a visitor changes a setting: name -> a function of the seed."""

    def compare_rows(seed: int) -> None:  # Compare at a new seed: every model's rows
        for model in models.values():
            for kind in views.row_kinds(model.capabilities):
                views.compare_row(model, kind, seed, digits)

    def probe_scores(seed: int) -> None:  # Out-of-distribution with another digit: every likelihood model
        for model in models.values():
            if model.capabilities.has_likelihood:
                kind = model.capabilities.image_kind
                digit = digits.binary[seed].astype(np.float32) if kind == "binary" else digits.gray(seed)
                nll_nats(model, np.stack(list(probes(digit, kind=kind).values())))

    def vae_bound(seed: int) -> None:  # the VAE's IWAE bound of 50 test digits (5,000 samples each)
        nll_nats(models["vae"], digits.binary[seed : seed + 50].astype(np.float32))

    return {"Compare, a new seed": compare_rows, "Out-of-distribution, another digit": probe_scores,
            "VAE bound, 50 digits": vae_bound}  # fmt: skip


def in_a_thread(work, seed: int) -> float:
    took: list[float] = []

    def run() -> None:
        start = time.perf_counter()
        work(seed)
        took.append(time.perf_counter() - start)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    return took[0]


def measure(work: dict, repeats: int, first_seed: int) -> dict[str, float]:
    return {name: min(in_a_thread(fn, first_seed + r) for r in range(repeats)) for name, fn in work.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    models = {name: load_model(name) for name, e in scan().items() if e.available}
    work = workloads(models, load_test_digits())
    measure(work, 1, 100)  # warm-up: sessions, caches, first-call costs
    before = measure(work, args.repeats, 1)
    rss_default = resident_mb()
    release_free_memory(0)
    trimmed_default = resident_mb()
    tuned = tune_malloc()
    after = measure(work, args.repeats, 1)
    rss_tuned = resident_mb()
    release_free_memory(0)
    trimmed_tuned = resident_mb()
    print(f"# glibc malloc, defaults against tuned ({', '.join(tuned) or 'nothing set'}), {platform.machine()}, "
          f"{os.cpu_count()} cores, best of {args.repeats}\n")  # fmt: skip
    print("| work | defaults (s) | tuned (s) | tuned / defaults |\n|---|---|---|---|")
    for name in work:
        print(f"| {name} | {before[name]:.3f} | {after[name]:.3f} | {after[name] / before[name]:.2f} |")
    print(f"\nResident after each phase: defaults {rss_default:.0f} MB ({trimmed_default:.0f} after malloc_trim), "
          f"tuned {rss_tuned:.0f} MB ({trimmed_tuned:.0f} after malloc_trim)")  # fmt: skip


if __name__ == "__main__":
    main()
