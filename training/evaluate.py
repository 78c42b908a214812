"""Test metrics for a trained model, on the project's fixed binary test split.

Every likelihood is in nats per image on ``binarize_fixed(test images)``; bits/dim is
nats / (D ln 2) with D the number of pixels (784 for MNIST).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import platform
import statistics
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

from training import data as data_lib


def test_tensors(ds: data_lib.Dataset) -> tuple[torch.Tensor, torch.Tensor]:
    """The fixed binary test split and a fixed binarization of the train split, (N, 1, H, W) float32."""
    x_test = torch.tensor(data_lib.binarize_fixed(ds.test.images), dtype=torch.float32).unsqueeze(1)
    x_train = torch.tensor(data_lib.binarize_fixed(ds.train.images), dtype=torch.float32).unsqueeze(1)
    return x_test, x_train


def bits_per_dim(nll_nats: float, num_pixels: int) -> float:
    return nll_nats / (num_pixels * math.log(2))


@torch.no_grad()
def evaluate(model: nn.Module, ds: data_lib.Dataset, *, iwae_k: int = 200, seed: int = 0) -> dict:
    """The model's own test metrics (see each model's ``evaluate``), seeded so reruns agree."""
    model.eval()
    torch.manual_seed(seed)
    x_test, x_train = test_tensors(ds)
    y_test = torch.tensor(ds.test.labels)
    x_test_gray = torch.tensor(ds.test.images, dtype=torch.float32).unsqueeze(1).div(255)
    x_train_gray = torch.tensor(ds.train.images, dtype=torch.float32).unsqueeze(1).div(255)
    metrics = model.evaluate(
        x_test=x_test,
        y_test=y_test,
        x_train=x_train,
        x_test_gray=x_test_gray,
        x_train_gray=x_train_gray,
        y_train=torch.tensor(ds.train.labels),
        iwae_k=iwae_k,
        seed=seed,
    )
    if "nll_nats" in metrics:  # every likelihood is on the fixed binary test split: say so beside it
        metrics["test_split"] = f"{ds.name} test split ({len(ds.test)} images), binarized by {data_lib.TEST_BINARIZATION}"
    return metrics


def measure_sample_quality(name: str, export_dir: Path, ds: data_lib.Dataset, n: int = 1000) -> dict | None:
    """Frechet classifier distance (and class accuracy) of the exported model's samples.

    Measured through the exported ONNX files and the app's own samplers, with the exported
    classifier as the judge, so every model is scored the same way. For the classifier
    itself: the floor, the distance of the train split to the test split.
    """
    from inference import load_model
    from inference.metrics import frechet_distance, sample_quality

    if not (Path(export_dir) / "classifier.json").is_file() or ds.image_size != 28:
        return None  # nothing to judge with (or tiny 8x8 data the classifier was not made for)
    classifier = load_model("classifier", export_dir)
    test_gray = ds.test.images / np.float32(255)
    test_binary = data_lib.binarize_fixed(ds.test.images).astype(np.float32)
    if name == "classifier":
        train_gray = ds.train.images / np.float32(255)
        train_binary = data_lib.binarize_fixed(ds.train.images).astype(np.float32)
        return {
            "fcd_floor_grayscale": frechet_distance(classifier.features(train_gray), classifier.features(test_gray)),
            "fcd_floor_binary": frechet_distance(classifier.features(train_binary), classifier.features(test_binary)),
            "floor": "train split (4,500) against test split (500): what real digits score",
        }
    model = load_model(name, export_dir)
    if not hasattr(model, "sample"):
        return None
    return sample_quality(model, classifier, test_gray, test_binary, n=n)


def sampling_seconds(model, n: int, repeats: int = 3) -> float:
    """Median wall time for the app's sampler to draw n images (its fast sampler if it has one)."""
    kwargs = {"labels": np.arange(n) % 10} if getattr(model, "conditional", False) else {}
    model.sample(min(n, 2), seed=0, **({"labels": np.arange(min(n, 2))} if kwargs else {}))  # warm up
    times = []
    for r in range(repeats):
        start = time.perf_counter()
        model.sample(n, seed=r, **kwargs)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def exported_figures(name: str, export_dir: Path, ds: data_lib.Dataset) -> dict:
    """The card figures measured on the exported files: sample quality, each test image's -log p(x)
    (nats, inference.metrics.nll_nats) for a model with a likelihood, and a comparison block
    (sampling time for 16 and 64 images, ONNX size), as {"metrics": ..., "comparison": ...} updates."""
    from inference import load_model

    export_dir = Path(export_dir)
    card = json.loads((export_dir / f"{name}.json").read_text())
    metrics = dict(card["metrics"])
    quality = measure_sample_quality(name, export_dir, ds)
    if quality:
        metrics["sample_quality"] = quality
    comparison = {
        "onnx_bytes": int(sum(net["bytes"] for net in card["networks"].values())),
        "measured_on": f"{platform.machine()}, {os.cpu_count()} CPU cores, {dt.date.today().isoformat()}",
    }
    model = load_model(name, export_dir)
    if card.get("density") in ("exact", "bound"):
        # Stored so the app's likelihood pages need not score the 500 test digits (up to ~20 s) on first view.
        from inference.metrics import nll_nats

        nll = nll_nats(model, data_lib.binarize_fixed(ds.test.images))
        metrics["test_nll_per_image"] = [round(float(v), 3) for v in nll]
    if hasattr(model, "sample"):
        comparison["sampler"] = "fast (cached activations)" if card.get("family") == "autoregressive" else "one pass"
        for n in (16, 64):
            comparison[f"sample_seconds_{n}"] = sampling_seconds(model, n)
    return {"metrics": metrics, "comparison": comparison}


def evaluate_exported(
    names: list[str] | None, checkpoint_dir: Path, export_dir: Path, iwae_k: int = 200
) -> list[Path]:
    """Recompute every figure of the given (default: all) exported models' cards and write them back."""
    from training.train import load_checkpoint

    export_dir = Path(export_dir)
    if not names:
        names = [p.stem for p in sorted(export_dir.glob("*.json")) if "networks" in json.loads(p.read_text())]
        names.sort(key=lambda n: n != "classifier")  # the judge first: the others' figures use it
    written = []
    for name in names:
        card_path = export_dir / f"{name}.json"
        card = json.loads(card_path.read_text())
        model, ckpt = load_checkpoint(Path(checkpoint_dir) / f"{name}.pt")
        ds = data_lib.load(ckpt["train"]["data"])
        card["metrics"] = evaluate(model, ds, iwae_k=iwae_k)
        card_path.write_text(json.dumps(card, indent=2) + "\n")
        card |= exported_figures(name, export_dir, ds)
        card["evaluated"] = dt.date.today().isoformat()
        card_path.write_text(json.dumps(card, indent=2) + "\n")
        written.append(card_path)
    return written
