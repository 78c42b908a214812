"""What the app shows first, stored at export: it depends only on the shipped files.

These views cost seconds to compute and are the same for every visitor who has not changed a setting:

- Compare's rows at the default seed: each model's samples, reconstructions and completions of the same test
  digits (the autoregressive samplers and the diffusion model take 4-5 s for all of them together);
- the Out-of-distribution page's probe scores for the default test digit (a VAE's bound takes 5,000 importance
  samples per probe);
- the Complete page's completions of the default test digit, with the seconds they took to draw;
- the Latent structure page's codes of the 500 test digits (the flow alone takes 0.4 s to encode them).

``python -m training views`` computes them through the functions the pages call (also the last step of ``export``,
``data`` and ``all``) into exported/views.npz. Each view names what it was computed from: the sha256 of its model's
networks and of the test digits. A page uses a stored view only when those still match, and computes it live
otherwise, so a retrained model never shows a stale picture. Scores and completions are stored by the content of
their images and every setting, so a page finds them only where they apply, whatever path led it there.
"""

from __future__ import annotations

import hashlib
import time
import zipfile
from pathlib import Path

import numpy as np

from inference.autoregressive import hidden_mask
from inference.cards import networks_source
from inference.data import DEMO_DATA_FILE, TestDigits, load_test_digits
from inference.metrics import nll_nats
from inference.probes import probes

FILE = "views.npz"
DEFAULT_SEED = 0  # the seed box's default on every page
DEFAULT_DIGIT = 0  # the test digit picker's default
ROW_KINDS = ("samples", "reconstructions", "completions")


def digits_source(folder: Path) -> str:
    return "digits:" + hashlib.sha256((Path(folder) / DEMO_DATA_FILE).read_bytes()).hexdigest()


def source(card, digits: str) -> str:
    """What a model's views were computed from: the sha256 of its networks, in a fixed order, and of the test digits
    (``digits``: :func:`digits_source`)."""
    return f"{networks_source(card.networks)}+{digits}"


def images_key(images: np.ndarray) -> str:
    """A stored score's key: the images' shape and content (float32)."""
    images = np.ascontiguousarray(images, np.float32)
    return "x".join(map(str, images.shape)) + ":" + hashlib.sha256(images.tobytes()).hexdigest()[:32]


def completion_key(name: str, image, hidden, n: int, seed: int, temperature: float, label: int | None) -> str:
    """A stored completion's key: the image, the hidden pixels and every setting the Complete page passes."""
    return f"{name}/complete/{images_key(image)}/{images_key(hidden)}/{n}/{seed}/{float(temperature)!r}/{label}"


def codes_key(name: str) -> str:
    return f"{name}/codes/test"


def row_key(name: str, kind: str, seed: int) -> str:
    return f"{name}/compare/{kind}/{seed}"


def nll_key(name: str, images: np.ndarray) -> str:
    return f"{name}/nll/{images_key(images)}"


# ---- the computations the pages make -----------------------------------------------------------------------------
def test_indices(count: int, kind: str, seed: int) -> np.ndarray:
    """The test digits Compare shows every model for a seed: 8 to reconstruct, 4 to complete."""
    return np.random.default_rng(seed).choice(count, size=8 if kind == "reconstructions" else 4, replace=False)


def row_kinds(capabilities) -> list[str]:
    """The Compare rows a model has: samples if it generates, reconstructions with an encoder, completions if it
    fills in hidden pixels."""
    has = {
        "samples": capabilities.generative,
        "reconstructions": capabilities.has_encoder,
        "completions": capabilities.can_complete,
    }
    return [kind for kind in ROW_KINDS if has[kind]]


def compare_row(model, kind: str, seed: int, digits: TestDigits) -> np.ndarray:
    """A model's row on Compare: 8 samples (a conditional model draws 0 to 7), 8 reconstructions, or 4 completions of
    digits with the bottom half hidden (binarized for a binary model, 8-bit for the others)."""
    if kind == "samples":
        return model.sample(8, seed)
    if kind == "reconstructions":
        return model.reconstruct(reconstruction_digits(digits, seed))
    labels = completion_labels(digits, seed) if model.conditional else None
    return model.complete(completion_digits(digits, model.capabilities.image_kind, seed), COMPARE_HIDDEN, seed=seed,
                          labels=labels)  # fmt: skip


COMPARE_HIDDEN = hidden_mask("bottom")  # what Compare's completions hide


def reconstruction_digits(digits: TestDigits, seed: int) -> np.ndarray:
    """The 8 test digits Compare's reconstructions encode and decode at a seed, at 256 grey levels: (8, H, W)."""
    return digits.gray(test_indices(len(digits), "reconstructions", seed))


def completion_labels(digits: TestDigits, seed: int) -> np.ndarray:
    """The classes of Compare's 4 completion digits at a seed: what a conditional model is asked for."""
    return digits.labels[test_indices(len(digits), "completions", seed)]


def completion_digits(digits: TestDigits, image_kind: str, seed: int) -> np.ndarray:
    """The 4 test digits Compare's completions start from at a seed, as a model of this kind sees them: the fixed
    binarization, or 256 grey levels. (4, H, W) float32."""
    idx = test_indices(len(digits), "completions", seed)
    return digits.binary[idx].astype(np.float32) if image_kind == "binary" else digits.gray(idx)


def test_codes(model, digits: TestDigits) -> np.ndarray:
    """The Latent structure page's codes: the 500 fixed-binary test digits encoded (a VAE's posterior means)."""
    return model.encode(digits.binary.astype(np.float32))


def default_digit(digits: TestDigits, image_kind: str) -> np.ndarray:
    """The default test digit as a model of this kind sees it: the fixed binarization, or its 256 grey levels."""
    return digits.binary[DEFAULT_DIGIT].astype(np.float32) if image_kind == "binary" else digits.gray(DEFAULT_DIGIT)


def completion(model, image, hidden, n: int, seed: int, temperature: float, label: int | None):
    """The Complete page's n completions of one image, and the seconds they took to draw."""
    start = time.perf_counter()
    filled = model.complete(image, hidden, n, seed, temperature=temperature, labels=label)
    return filled, time.perf_counter() - start


def default_completion_settings(model, digits: TestDigits) -> tuple:
    """What the Complete page passes at its defaults: the default digit, the bottom half hidden, 4 completions, the
    default seed, temperature 1, and the digit's own class for a conditional model."""
    label = int(digits.labels[DEFAULT_DIGIT]) if model.conditional else None
    return default_digit(digits, model.capabilities.image_kind), hidden_mask("bottom"), 4, DEFAULT_SEED, 1.0, label


def default_probes(digits: TestDigits, image_kind: str) -> np.ndarray:
    """The Out-of-distribution page's probes of the default test digit, of a model's kind: (P, 28, 28)."""
    return np.stack(list(probes(default_digit(digits, image_kind), kind=image_kind).values()))


# ---- storing -----------------------------------------------------------------------------------------------------
Views = dict[str, tuple[np.ndarray, str]]  # key -> (array, source)


def model_views(name: str, model, digits: TestDigits, folder: Path) -> Views:
    """Every stored view of one loaded model."""
    views: Views = {}
    made_from = source(model.card, digits_source(folder))
    for kind in row_kinds(model.capabilities):
        views[row_key(name, kind, DEFAULT_SEED)] = (compare_row(model, kind, DEFAULT_SEED, digits), made_from)
    if model.capabilities.has_likelihood:
        images = default_probes(digits, model.capabilities.image_kind)
        views[nll_key(name, images)] = (nll_nats(model, images), made_from)
    if model.capabilities.has_encoder:
        views[codes_key(name)] = (test_codes(model, digits), made_from)
    if model.capabilities.can_complete:
        settings = default_completion_settings(model, digits)
        filled, seconds = completion(model, *settings)
        key = completion_key(name, *settings)
        views[key] = (filled, made_from)
        views[f"{key}/seconds"] = (np.float64(seconds), made_from)
    return views


def update(folder: Path, models: dict, keep: set[str] | None = None) -> Path:
    """Recompute the views of ``models`` ({name: loaded model}) and store them with the others already stored, less
    those of models not in ``keep`` (the names still shipped; None keeps all)."""
    folder = Path(folder)
    digits = load_test_digits(folder)
    views = {k: v for k, v in read(folder / FILE).items() if keep is None or k.split("/", 1)[0] in keep}
    for name, model in models.items():
        views = {k: v for k, v in views.items() if k.split("/", 1)[0] != name}
        views |= model_views(name, model, digits, folder)
    return write(folder / FILE, views)


def write(path: Path, views: Views) -> Path:
    arrays: dict[str, np.ndarray] = {}
    for key, (array, source) in sorted(views.items()):
        arrays[f"{key}|value"] = np.asarray(array)
        arrays[f"{key}|source"] = np.str_(source)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp.npz")
    np.savez_compressed(tmp, **arrays)
    tmp.replace(path)
    return path


def read(path: Path) -> Views:
    """The stored views, {key: (array, source)}; empty if the file is missing or unreadable (the pages then compute
    everything live)."""
    try:
        with np.load(path, allow_pickle=False) as f:
            data = {k: f[k] for k in f.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile):
        return {}
    return {
        key[: -len("|value")]: (value, str(data[key[: -len("|value")] + "|source"]))
        for key, value in data.items()
        if key.endswith("|value") and key[: -len("|value")] + "|source" in data
    }


def stored(views: Views, key: str, source: str) -> np.ndarray | None:
    """A stored view if it was computed from ``source``, else None (compute it live)."""
    found = views.get(key)
    return found[0] if found is not None and found[1] == source else None
