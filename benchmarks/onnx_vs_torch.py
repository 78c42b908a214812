"""onnxruntime against PyTorch eager, per exported network, batch 1 and 64, in one process.

    python benchmarks/onnx_vs_torch.py [--repeats 20]

For every network of every shipped model: the median time of one call in PyTorch (eval mode,
no_grad, the checkpoint the file was exported from) and in onnxruntime (the app's session
settings), and the ratio torch / onnxruntime (above 1: onnxruntime is faster). Both get the
same thread budget (torch.set_num_threads = onnxruntime intra-op threads). Prints a table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from _timing import median_seconds  # noqa: E402

from inference.runtime import Network, default_threads  # noqa: E402
from training.train import load_checkpoint  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--threads", type=int, default=default_threads())
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(
        f"# onnxruntime vs PyTorch eager, {platform.machine()}, {os.cpu_count()} cores, {args.threads} threads each\n"
    )
    print("| model | network | batch | torch (ms) | onnxruntime (ms) | torch / ort |")
    print("|---|---|---|---|---|---|")
    for card_path in sorted((ROOT / "exported").glob("*.json")):
        card = json.loads(card_path.read_text())
        if "networks" not in card:
            continue
        model, _ = load_checkpoint(ROOT / "checkpoints" / f"{card['name']}.pt")
        for role, net in model.networks().items():
            info = card["networks"][role]
            threads = 1 if "step" in role else args.threads  # as the app runs them
            session = Network(ROOT / "exported" / info["file"], info["sha256"], threads)
            for batch in (1, 64):
                rng = np.random.default_rng(0)
                inputs = [rng.random((batch, *t.shape[1:]), dtype=np.float32) for t in net.example_inputs]
                tensors = [torch.from_numpy(x) for x in inputs]
                torch.set_num_threads(threads)

                def run_torch():
                    with torch.no_grad():
                        net.module(*tensors)

                t_torch = median_seconds(run_torch, args.repeats)
                t_ort = median_seconds(lambda: session(*inputs), args.repeats)
                print(
                    f"| {card['name']} | {role} | {batch} | {1000 * t_torch:.3f} | {1000 * t_ort:.3f} | {t_torch / t_ort:.2f} |"
                )
                torch.set_num_threads(args.threads)


if __name__ == "__main__":
    main()
