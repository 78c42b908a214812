"""The model registry on the app side: what is in exported/, what is usable, and loading it.

A model is its card ``exported/<name>.json`` plus the ONNX files the card lists. A model
whose card is unreadable or malformed, whose files are missing, or whose files do not match
the sha256 in its card is *unavailable*: it is listed with the reason, and the rest of the
app works.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from inference.autoencoder import Autoencoder
from inference.autoregressive import GatedPixelCNN, PixelCNN, PixelRNN, PixelRNNDiagonal
from inference.base import Capabilities, OnnxModel
from inference.cards import CardError, ModelCard, is_model_card, parse_model_card, read_json
from inference.classifier import Classifier
from inference.diffusion import Diffusion
from inference.flow import Flow
from inference.gan import GAN
from inference.multiscale import MultiscalePixelCNN
from inference.pixelcnn_pp import PixelCNNPP
from inference.runtime import ModelFileError, check_file, load_network
from inference.vae import VAE

EXPORTED_DIR = Path(__file__).resolve().parent.parent / "exported"

# card.architecture -> the class that runs it. A new model family adds one line here.
ARCHITECTURES: dict[str, type[OnnxModel]] = {
    "autoencoder": Autoencoder,
    "vae": VAE,
    "pixelcnn": PixelCNN,
    "gated_pixelcnn": GatedPixelCNN,
    "pixelrnn": PixelRNN,
    "pixelrnn_diagonal": PixelRNNDiagonal,
    "pixelcnn_pp": PixelCNNPP,
    "multiscale": MultiscalePixelCNN,
    "gan": GAN,
    "flow": Flow,
    "diffusion": Diffusion,
    "classifier": Classifier,
}

FAMILY_ORDER = ("autoencoder", "latent-variable", "autoregressive", "flow", "diffusion", "implicit", "classifier")


def exported_dir() -> Path:
    """The folder models are read from: GENLAB_EXPORTED_DIR if set, else the repo's exported/."""
    return Path(os.environ.get("GENLAB_EXPORTED_DIR") or EXPORTED_DIR)


class ModelUnavailable(RuntimeError):
    """A model cannot be used; the message says which and why, fit for the page."""


@dataclass(frozen=True)
class ModelEntry:
    name: str
    card: ModelCard | None
    problem: str | None = None  # None when the model can be loaded

    @property
    def available(self) -> bool:
        return self.problem is None

    @property
    def title(self) -> str:
        return self.card.title if self.card else self.name

    @property
    def capabilities(self) -> Capabilities | None:
        """What the model can do, from its class and card; None if the card is unusable."""
        if self.card is None or self.card.architecture not in ARCHITECTURES:
            return None
        return ARCHITECTURES[self.card.architecture].capabilities_of(self.card)

    @property
    def display_order(self) -> tuple:
        family = self.card.family if self.card else ""
        return (FAMILY_ORDER.index(family) if family in FAMILY_ORDER else len(FAMILY_ORDER), self.title)


def _entry(card_path: Path) -> ModelEntry | None:
    """The checked entry for one card file; None if the file is some other kind of card."""
    name = card_path.stem
    try:
        raw = read_json(card_path)
    except CardError as err:
        return ModelEntry(name, None, f"its card {err}")
    if not is_model_card(raw):
        return None  # a study's card (density, ganlab, features), not a model
    try:
        card = parse_model_card(raw, card_path.name)
    except CardError as err:
        return ModelEntry(name, None, f"its card is malformed ({err})")
    if card.architecture not in ARCHITECTURES:
        return ModelEntry(
            name, card, f"unknown architecture {card.architecture!r} (this app knows {', '.join(ARCHITECTURES)})"
        )
    try:
        for role, net in card.networks.items():
            check_file(card_path.parent / net.file, net.sha256, role)
    except ModelFileError as err:
        return ModelEntry(name, card, str(err))
    return ModelEntry(name, card)


def scan(folder: Path | None = None) -> dict[str, ModelEntry]:
    """Every model card in ``folder`` (default: :func:`exported_dir`), checked: name -> entry, in display order
    (family by family, then by title)."""
    folder = Path(folder) if folder is not None else exported_dir()
    entries = [e for e in (_entry(path) for path in sorted(folder.glob("*.json"))) if e is not None]
    return {e.name: e for e in sorted(entries, key=lambda e: e.display_order)}


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
    return model_from_card(entry.card, folder, threads)


def model_from_card(card: ModelCard, folder: Path, threads: int | None = None) -> OnnxModel:
    """The app-side model for a card whose networks lie in ``folder`` (also before the card is written)."""
    try:
        # A step network computes one pixel: tiny work per call, where a thread pool's wake-up costs more
        # than it saves.
        networks = {
            role: load_network(folder, spec, 1 if "step" in role else threads, role)
            for role, spec in card.networks.items()
        }
    except ModelFileError as err:
        raise ModelUnavailable(f"{card.title} is unavailable: {err}.") from err
    return ARCHITECTURES[card.architecture](card, networks)
