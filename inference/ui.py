"""Streamlit glue shared by every page: cached models, the model picker, digit display.

The only module of the inference package that imports streamlit; pages stay short by
calling these, and every page looks and behaves the same way.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import streamlit as st

from inference import images as img
from inference.base import OnnxModel
from inference.data import TestDigits, load_test_digits
from inference.metrics import nll_nats
from inference.registry import ModelEntry, ModelUnavailable, exported_dir, load_model, scan

MAX_SEED = 2**31 - 1


# Caches are per process and shared by every session; keyed by folder so tests can point
# GENLAB_EXPORTED_DIR elsewhere.
@st.cache_resource(show_spinner="Reading model cards...")
def _cached_entries(folder: str) -> dict[str, ModelEntry]:
    return scan(folder)


def model_entries() -> dict[str, ModelEntry]:
    """Every model card in exported/, checked once per process."""
    return _cached_entries(str(exported_dir()))


@st.cache_resource(show_spinner="Loading model...", max_entries=32)
def cached_model(name: str, folder: str) -> OnnxModel:
    return load_model(name, folder)


def get_model(name: str) -> OnnxModel | None:
    """The loaded model, or None after an error message on the page saying why."""
    try:
        return cached_model(name, str(exported_dir()))
    except ModelUnavailable as err:
        st.error(str(err), icon=":material/error:")
        return None


@st.cache_resource(show_spinner="Loading test digits...")
def _cached_test_digits(folder: str) -> TestDigits:
    return load_test_digits(folder)


def test_digits() -> TestDigits:
    """The 500 test digits; stops the page with a message if the demo data is missing."""
    try:
        return _cached_test_digits(str(exported_dir()))
    except (FileNotFoundError, OSError, KeyError, ValueError) as err:
        st.error(f"The test digits cannot be loaded: {err}", icon=":material/error:")
        st.stop()


def header(title: str, lesson: str) -> None:
    """Every page opens the same way: a title, and one line tying the picture to the idea."""
    st.title(title)
    st.caption(lesson)


FAMILY_ORDER = ["autoencoder", "latent-variable", "autoregressive", "implicit", "flow"]


def _display_order(entry: ModelEntry) -> tuple:
    family = (entry.card or {}).get("family", "")
    return (FAMILY_ORDER.index(family) if family in FAMILY_ORDER else len(FAMILY_ORDER), entry.title)


def available(architectures: Sequence[str] | None = None) -> list[ModelEntry]:
    """Usable models (optionally of some architectures), family by family; unavailable ones are
    listed in the sidebar with the reason."""
    entries = sorted(
        (e for e in model_entries().values() if architectures is None or (e.card or {}).get("architecture") in architectures),
        key=_display_order,
    )
    broken = [e for e in model_entries().values() if not e.available and (architectures is None or e.card is None or e.card.get("architecture") in architectures)]
    for e in broken:
        st.sidebar.warning(f"**{e.title}** is unavailable: {e.problem}.", icon=":material/warning:")
    return [e for e in entries if e.available]


def require(entries: list[ModelEntry], what: str) -> list[ModelEntry]:
    """The entries, or the page stops with a message naming what it needs and how to get it."""
    if not entries:
        st.info(f"No {what} is available. Run `python -m training all`.")
        st.stop()
    return entries


def pick_model(
    label: str, architectures: Sequence[str] | None = None, key: str = "model", default: str | None = None
) -> OnnxModel:
    """A sidebar select box over the usable models; stops the page if there is none."""
    entries = available(architectures)
    if not entries:
        st.info("No model of this kind is available. Run `python -m training all` to train and export them.")
        st.stop()
    names = [e.name for e in entries]
    titles = {e.name: e.title for e in entries}
    if st.session_state.get(key) not in names:
        st.session_state.pop(key, None)  # a stale or hand-made value (old link, removed model)
    index = names.index(default) if default in names else 0
    name = st.sidebar.selectbox(
        label, names, index=index, format_func=lambda n: titles.get(n, n), key=key, bind="query-params"
    )
    model = get_model(name)
    if model is None:
        st.stop()
    return model


def seed_input(key: str = "seed", label: str = "Seed") -> int:
    return int(
        st.sidebar.number_input(
            label,
            min_value=0,
            max_value=MAX_SEED,
            value=0,
            step=1,
            key=key,
            help="The same seed gives the same pictures, in every model that shares the latent size.",
            bind="query-params",
        )
    )


def show_digits(images: np.ndarray, cols: int | None = None, caption: str | None = None, scale: int = 4) -> None:
    """A grid of digits, upscaled crisply (nearest neighbour), shown at its own pixel size."""
    st.image(img.upscale(img.tile(images, cols), scale), caption=caption, width="content")


def show_digit(image: np.ndarray, caption: str | None = None, scale: int = img.DISPLAY_SCALE) -> None:
    st.image(img.upscale(image, scale), caption=caption, width="content")


@contextmanager
def timed(message: str) -> Iterator[dict]:
    """A spinner while the block runs; the dict it yields gets ``seconds`` afterwards."""
    result: dict = {}
    with st.spinner(message, show_time=True):
        start = time.perf_counter()
        yield result
        result["seconds"] = time.perf_counter() - start


def digit_picker(key: str, label: str = "Test digit", default: int = 0) -> int:
    """Index of a test digit: a number box with a random button; the label is shown beside it."""
    n = len(test_digits())
    st.session_state[key] = clamp_int(st.session_state.get(key), 0, n - 1, default)
    if st.button("Random digit", key=f"{key}_random", icon=":material/casino:"):
        st.session_state[key] = int(np.random.default_rng().integers(n))
    return int(st.number_input(label, min_value=0, max_value=n - 1, step=1, key=key))


def clamp_int(value, lo: int, hi: int, default: int) -> int:
    """A value that may have come from anywhere (session state, an old link) as an int in [lo, hi]."""
    try:
        return min(max(int(value), lo), hi)
    except (TypeError, ValueError, OverflowError):
        return default


def fmt(value: float | None, digits: int = 2) -> str:
    return "n/a" if value is None else f"{value:,.{digits}f}"


@dataclass(frozen=True)
class DigitInput:
    image: np.ndarray  # (28, 28) float32 in [0, 1], MNIST style
    binary: np.ndarray  # (28, 28) float32 {0, 1}: the fixed binarization likelihoods use
    label: int | None  # the true class, for test digits
    description: str




def digit_input() -> DigitInput | None:
    """Where a page's digit comes from: a test digit, an upload or a drawing.

    Shows the choice and its widgets where it is called; returns None (after saying what
    to do, or why an upload cannot be used) until there is a digit. The choice persists
    across pages, so a digit drawn on one page is still selected on the next.
    """
    source = st.segmented_control(
        "Input", ["Test digit", "Upload", "Draw"], default="Test digit", key="source", required=True,
        persist_state="session",
    )  # fmt: skip
    if source == "Test digit":
        digits = test_digits()
        index = digit_picker("digit_index")
        label = int(digits.labels[index])
        return DigitInput(digits.gray(index), digits.binary[index].astype(np.float32), label, f"test digit {index}, a {label}")
    if source == "Upload":
        # No type= filter: the content, not the name, decides (a .png may be text, an .svg is refused
        # with a reason), and a filter would raise before the page could explain anything.
        upload = st.file_uploader(
            "A picture of one digit", key="upload", help=f"PNG, JPEG, GIF, BMP, WebP or TIFF, up to {img.MAX_UPLOAD_BYTES // 2**20} MB."
        )
        if upload is None:
            st.info("Upload a picture of a single digit, dark on light or light on dark.")
            return None
        try:
            image = img.prepare_upload(upload.getvalue(), upload.name)
        except img.ImageInputError as err:
            st.error(f"That upload cannot be used: {err}", icon=":material/broken_image:")
            return None
        return DigitInput(image, img.binarize(image), None, f"your upload {upload.name}")
    from streamlit_drawable_canvas import st_canvas  # a browser component: imported only when drawing

    canvas = st_canvas(
        stroke_width=22,
        stroke_color="#FFFFFF",
        background_color="#000000",
        width=280,
        height=280,
        drawing_mode="freedraw",
        return_image_data=True,
        key="canvas",
    )
    if not (canvas.json_data and canvas.json_data.get("objects")):
        st.info("Draw one digit on the black square, large and in the middle.")
        return None
    try:
        image = img.prepare_drawing(canvas.image_data)
    except img.ImageInputError as err:
        st.warning(str(err), icon=":material/draw:")
        return None
    return DigitInput(image, img.binarize(image), None, "your drawing")


@st.cache_data(show_spinner="Scoring the 500 test digits...", max_entries=16)
def _test_nll(name: str, folder: str) -> np.ndarray:
    model = cached_model(name, folder)
    digits = _cached_test_digits(folder)
    # Export stores them, computed by the same function through the same (sha-checked) ONNX files:
    # scoring 500 digits is up to ~20 s on 2 cores (the Gated PixelCNN sums over 10 classes).
    stored = model.card.get("metrics", {}).get("test_nll_per_image")
    if stored is not None and len(stored) == len(digits.binary):
        return np.asarray(stored, np.float64)
    return nll_nats(model, digits.binary)


def test_nll(name: str) -> np.ndarray:
    """-log p(x) of each of the 500 fixed-binary test digits under a model (metrics.nll_nats), nats per image."""
    return _test_nll(name, str(exported_dir()))


def class_picker(label: str = "Class", key: str = "digit_class", allow_each: bool = True, default=None):
    """The digit a class-conditional model is asked for: one class, or each class in turn."""
    options = (["each"] if allow_each else []) + list(range(10))
    if default not in options:
        default = options[0]
    return st.sidebar.selectbox(
        label,
        options,
        index=options.index(default),
        format_func=lambda c: "Each class in turn (0, 1, 2, ...)" if c == "each" else f"{c}",
        key=key,
        help="The Gated PixelCNN is conditioned on a class: every gate gets a bias learned for that digit.",
    )


def class_labels(n: int) -> np.ndarray:
    """n class labels from the sidebar's class picker: one class n times, or 0, 1, 2, ... in turn."""
    choice = class_picker()
    return np.arange(n) % 10 if choice == "each" else np.full(n, int(choice))


AUTOREGRESSIVE = ["pixelcnn", "gated_pixelcnn", "pixelrnn"]
GENERATIVE = ["autoencoder", "vae", *AUTOREGRESSIVE, "gan"]  # every architecture that can sample
