"""Export a trained model's networks to ONNX and write its model card.

For model ``name`` this writes, into the export folder:

* ``<name>_<role>.onnx`` for each network the model has (e.g. encoder, decoder): one
  self-contained file each (no external data), batch dimension dynamic;
* ``<name>.json``, the model card: what the model is, its config, the data and split it
  was trained and tested on, how it was trained, its test metrics, and for each network its
  file, sha256, input/output names and shapes, opset and the versions that made it.

The app reads only these files.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import onnx
import torch

from inference.cards import parse_model_card
from training import data as data_lib
from training.artifacts import OPSET, export_network, write_card
from training.evaluate import FULL, Protocol, evaluate
from training.models import get_spec
from training.train import DEFAULT_CHECKPOINT_DIR, load_checkpoint

DEFAULT_EXPORT_DIR = Path("exported")
DEMO_DATA_FILE = "mnist_test.npz"


def export(
    name: str,
    *,
    checkpoint_dir: Path = DEFAULT_CHECKPOINT_DIR,
    export_dir: Path = DEFAULT_EXPORT_DIR,
    protocol: Protocol = FULL,
) -> Path:
    """Export ``checkpoint_dir/<name>.pt`` to ``export_dir`` and evaluate it through the exported files;
    the card is written once, with every figure. Returns the card's path."""
    spec = get_spec(name)
    ckpt_path = Path(checkpoint_dir) / f"{name}.pt"
    if not ckpt_path.is_file():
        raise FileNotFoundError(f"{ckpt_path}: no checkpoint; run `python -m training train {name}` first")
    model, ckpt = load_checkpoint(ckpt_path)
    train_info = ckpt["train"]
    ds = data_lib.load(train_info["data"])

    export_dir = Path(export_dir)
    export_dir.mkdir(parents=True, exist_ok=True)
    networks = {role: export_network(net, export_dir / f"{name}_{role}.onnx") for role, net in model.networks().items()}
    card = parse_model_card(
        {
            "name": name,
            "title": spec.title,
            "description": spec.description,
            "architecture": spec.architecture,
            "family": spec.family,
            "density": spec.density,
            "config": ckpt["config"],
            "data": train_info["data_info"] | ds.describe() | {"limit": train_info["limit"]},
            "training": {k: v for k, v in train_info.items() if k not in ("data_info", "limit", "history")},
            # trained parameters only: a GAN's weight-averaged generator copy is not counted twice
            "parameters": int(sum(p.numel() for p in model.parameters() if p.requires_grad)),
            "networks": networks,
            "opset": OPSET,
            "versions": {
                "torch": str(torch.__version__),
                "onnx": onnx.__version__,
                "onnxscript": _version("onnxscript"),
            },
            "exported": dt.date.today().isoformat(),
        },
        f"{name}.json",
    )
    return write_card(export_dir / f"{name}.json", evaluate(card, export_dir, ds, protocol))


def export_demo_data(export_dir: Path = DEFAULT_EXPORT_DIR, data: str = "mnist5k") -> Path:
    """The test split the app shows: grayscale images, labels and the fixed binarization."""
    ds = data_lib.load(data)
    export_dir = Path(export_dir)
    export_dir.mkdir(parents=True, exist_ok=True)
    path = export_dir / DEMO_DATA_FILE
    np.savez_compressed(
        path,
        images=ds.test.images,
        labels=ds.test.labels,
        binary=data_lib.binarize_fixed(ds.test.images),
    )
    return path


def _version(package: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(package)
    except PackageNotFoundError:
        return "not installed"
