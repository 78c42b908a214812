"""The few-label classification study's card and its exported classifiers (exported/features*)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from inference.base import as_batch
from inference.registry import exported_dir
from inference.runtime import ModelFileError, Network


def load_study(folder: Path | None = None) -> dict | None:
    """The study's card, or None if it has not been run."""
    path = (Path(folder) if folder is not None else exported_dir()) / "features.json"
    if not path.is_file():
        return None
    return json.loads(path.read_text())


def load_classifiers(card: dict, folder: Path | None = None) -> tuple[dict[str, Network], list[str]]:
    """The study's ONNX classifiers that load and match their sha256, and a message for each that does not."""
    folder = Path(folder) if folder is not None else exported_dir()
    nets, problems = {}, []
    for method, info in card.get("classifiers", {}).items():
        try:
            nets[method] = Network(folder / info["file"], info["sha256"])
        except ModelFileError as err:
            problems.append(f"{card['methods'].get(method, method)} is unavailable: {err}")
    return nets, problems


def classify(net: Network, image: np.ndarray) -> np.ndarray:
    """Class probabilities (10,) for one (28, 28) image in [0, 1]."""
    logits = net(as_batch(image, 28))["logits"][0].astype(np.float64)
    e = np.exp(logits - logits.max())
    return e / e.sum()
