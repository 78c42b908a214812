"""Sampling speed of the shipped models through onnxruntime: naive against fast, side by side.

    python benchmarks/sampling.py [--n 16] [--repeats 5] [--naive-repeats 1] [--only NAME ...]

For each autoregressive model, the naive sampler (the full network once per pixel, 784
passes) and the fast one (cached activations / carried state) draw the same n samples
from the same seed in this one process; the table gives their times and the ratio. The
multi-scale model has one sampler (55 sequential steps, coarse to fine); its row gives
the speed-up over the fastest 8-bit raster-order sampler measured in the same run. PixelCNN++
also runs its fast sampler with every call on whole images and rows, to show what reading only
what each pixel depends on buys. The latent-variable models are listed for scale. Timings are medians; nothing here passes or
fails: it prints what it measured.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _timing import median_seconds  # noqa: E402

from inference import load_model, scan  # noqa: E402
from inference.runtime import default_threads  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=16, help="samples per call")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--naive-repeats", type=int, default=1)
    parser.add_argument("--only", nargs="*", default=None, help="these models only (default: every shipped model)")
    args = parser.parse_args()

    print(f"# Sampling {args.n} images of 28 x 28, {platform.machine()}, {os.cpu_count()} cores, "
          f"onnxruntime threads {default_threads()} (step networks: 1)\n")  # fmt: skip
    print("| model | sampler | seconds | speed-up | same images |")
    print("|---|---|---|---|---|")
    raster_8bit: dict[str, float] = {}  # the 8-bit raster-order models' fast times, for the multi-scale row
    entries = {n: e for n, e in scan().items() if e.available and (not args.only or n in args.only)}
    # the multi-scale model last, so the raster-order 8-bit models it is compared with are measured first
    for name in sorted(entries, key=lambda n: entries[n].capabilities.pixel_order != "raster"):
        model = load_model(name)
        can = model.capabilities
        if can.pixel_order == "multiscale":  # coarse to fine, in groups: one sampler, against the raster-order ones
            model.sample(2, 0)
            t = median_seconds(lambda: model.sample(args.n, 0), args.repeats, warm_up=False)
            ref = min(raster_8bit, key=raster_8bit.get) if raster_8bit else None
            against = f"{raster_8bit[ref] / t:.1f}x vs {ref}" if ref else ""
            print(f"| {name} | {model.fast_sampler} | {t:.3f} | {against} | |")
        elif can.can_complete:  # pixel by pixel: naive against fast (a conditional one: 0, 1, 2, ...)
            model.sample(2, 0)  # warm up
            fast = median_seconds(lambda: model.sample(args.n, 0), args.repeats, warm_up=False)
            naive = median_seconds(lambda: model.sample(args.n, 0, method="naive"), args.naive_repeats, warm_up=False)
            same = np.array_equal(model.sample(args.n, 0), model.sample(args.n, 0, method="naive"))
            print(f"| {name} | naive (784 full passes) | {naive:.3f} | 1x | |")
            if getattr(model, "windows", False):  # PixelCNN++: its calls on whole images and rows, for the windows
                model.windows = False
                whole = median_seconds(lambda: model.sample(args.n, 0), args.repeats, warm_up=False)
                same_whole = np.array_equal(model.sample(args.n, 0), model.sample(args.n, 0, method="naive"))
                model.windows = True
                print(f"| {name} | fast, each call on whole images and rows | {whole:.3f} | {naive / whole:.0f}x | "
                      f"{'yes' if same_whole else 'NO'} |")  # fmt: skip
            print(f"| {name} | {model.fast_sampler} | {fast:.3f} | {naive / fast:.0f}x | {'yes' if same else 'NO'} |")
            if can.image_kind != "binary":
                raster_8bit[name] = fast
        elif model.capabilities.generative:  # latent-variable models and GANs: one pass
            model.sample(args.n, 0)  # warm up
            t = median_seconds(lambda: model.sample(args.n, 0), args.repeats, warm_up=False)
            print(f"| {name} | decode z ~ prior | {t:.4f} | | |")


if __name__ == "__main__":
    main()
