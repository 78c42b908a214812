"""The model registry on the app side: what is in exported/, what is usable, and loading it.

A model is its card ``exported/<name>.json`` plus the ONNX files the card lists. A model
whose card is unreadable, whose files are missing, or whose files do not match the sha256
in its card is *unavailable*: it is listed with the reason, and the rest of the app works.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from inference.autoencoder import Autoencoder
from inference.autoregressive import GatedPixelCNN, PixelCNN, PixelRNN
from inference.classifier import Classifier
from inference.gan import GAN
from inference.base import OnnxModel
from inference.runtime import ModelFileError, Network
from inference.vae import VAE

EXPORTED_DIR = Path(__file__).resolve().parent.parent / "exported"


def exported_dir() -> Path:
    """The folder models are read from: GENLAB_EXPORTED_DIR if set, else the repo's exported/."""
    return Path(os.environ.get("GENLAB_EXPORTED_DIR") or EXPORTED_DIR)

# card["architecture"] -> the class that runs it. A new model family adds one line here.
ARCHITECTURES: dict[str, type[OnnxModel]] = {
    "autoencoder": Autoencoder,
    "vae": VAE,
    "pixelcnn": PixelCNN,
    "gated_pixelcnn": GatedPixelCNN,
    "pixelrnn": PixelRNN,
    "gan": GAN,
    "classifier": Classifier,
}


class ModelUnavailable(RuntimeError):
    """A model cannot be used; the message says which and why, fit for the page."""


@dataclass(frozen=True)
class ModelEntry:
    name: str
    card: dict | None
    problem: str | None = None  # None when the model can be loaded

    @property
    def available(self) -> bool:
        return self.problem is None

    @property
    def title(self) -> str:
        return (self.card or {}).get("title", self.name)


def _check(name: str, card: dict, folder: Path) -> str | None:
    """Why the model cannot be used, or None."""
    if card.get("architecture") not in ARCHITECTURES:
        return f"unknown architecture {card.get('architecture')!r} (this app knows {', '.join(ARCHITECTURES)})"
    for role, net in card["networks"].items():
        path = folder / net["file"]
        if not path.is_file():
            return f"its {role} file {net['file']} is missing"
        if hashlib.sha256(path.read_bytes()).hexdigest() != net.get("sha256"):
            return f"its {role} file {net['file']} does not match the sha256 in its card (changed or corrupt)"
    return None


def _entry(card_path: Path) -> ModelEntry | None:
    """The checked entry for one card file; None if the file is some other kind of card."""
    name = card_path.stem
    try:
        card = json.loads(card_path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        return ModelEntry(name, None, f"its card {card_path.name} cannot be read ({err})")
    if not isinstance(card, dict) or "networks" not in card:
        return None  # another kind of card (a study's results), not a model
    try:
        problem = _check(name, card, card_path.parent)
    except (KeyError, TypeError, AttributeError) as err:
        problem = f"its card {card_path.name} is incomplete ({type(err).__name__}: {err})"
    return ModelEntry(name, card, problem)


def scan(folder: Path | None = None) -> dict[str, ModelEntry]:
    """Every model card in ``folder`` (default: :func:`exported_dir`), checked: name -> entry."""
    folder = Path(folder) if folder is not None else exported_dir()
    entries = (_entry(path) for path in sorted(folder.glob("*.json")))
    return {e.name: e for e in entries if e is not None}


def scan_one(name: str, folder: Path | None = None) -> ModelEntry:
    folder = Path(folder) if folder is not None else exported_dir()
    card_path = folder / f"{name}.json"
    if not card_path.is_file():
        return ModelEntry(name, None, f"there is no model card {card_path.name} in {Path(folder).name}/")
    return _entry(card_path) or ModelEntry(name, None, f"{card_path.name} is not a model card")


def load_model(name: str, folder: Path | None = None, threads: int | None = None) -> OnnxModel:
    """Load one model's networks into onnxruntime; ModelUnavailable says why if it cannot."""
    folder = Path(folder) if folder is not None else exported_dir()
    entry = scan_one(name, folder)
    if not entry.available:
        raise ModelUnavailable(f"{entry.title} is unavailable: {entry.problem}.")
    card = entry.card
    networks = {}
    try:
        for role, spec in card["networks"].items():
            # A step network computes one pixel: tiny work per call, where a thread pool's
            # wake-up costs more than it saves.
            net = Network(folder / spec["file"], spec["sha256"], 1 if "step" in role else threads)
            expected = [i["name"] for i in spec["inputs"]], [o["name"] for o in spec["outputs"]]
            if (net.input_names, net.output_names) != expected:
                raise ModelFileError(f"{spec['file']} has inputs/outputs {net.input_names}/{net.output_names}, card says {expected[0]}/{expected[1]}")
            networks[role] = net
    except ModelFileError as err:
        raise ModelUnavailable(f"{entry.title} is unavailable: {err}.") from err
    return ARCHITECTURES[card["architecture"]](card, networks)


