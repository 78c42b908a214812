"""The controls pages share: which model, which seed, which digit, which class, how hot."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import streamlit as st

from app import display, models
from inference import images as img
from inference.base import OnnxModel
from inference.registry import ModelUnavailable

MAX_SEED = 2**31 - 1


def get_model(name: str) -> OnnxModel | None:
    """The loaded model, or None after an error on the page saying why it cannot be used."""
    try:
        return models.load(name)
    except ModelUnavailable as err:
        display.error(str(err))
        return None


def test_digits():
    """The 500 test digits; the page stops with the reason if the demo data cannot be loaded."""
    try:
        return models.test_digits()
    except (FileNotFoundError, OSError, KeyError, ValueError) as err:
        display.error(f"The test digits cannot be loaded: {err}")
        st.stop()


def pick_model(
    label: str, where: models.Where | None = None, key: str = "model", default: str | None = None
) -> OnnxModel:
    """A sidebar select box over the usable models of a kind; stops the page if there is none. Models of
    that kind that cannot be used are listed in the sidebar with the reason."""
    display.warn_unavailable(models.unavailable(where))
    entries = display.require(models.available(where), "model of this kind", "python -m training all")
    names = [e.name for e in entries]
    titles = {e.name: e.title for e in entries}
    # The link carries the model's name (/sample?model=pixelcnn); a title (what Streamlit's own binding
    # writes) is read too. A stale or hand-made value (an old link, a removed model) falls back to the default.
    linked = st.query_params.get(key)
    linked = {t: n for n, t in titles.items()}.get(linked, linked)
    if st.session_state.get(key) not in names:
        fallback = default if default in names else names[0]
        st.session_state[key] = linked if linked in names else fallback
        if linked is not None and linked not in names:  # say so in one line, not silently show something else
            st.info(
                f"The link names a model, {linked!r}, that this page does not have: showing {titles[fallback]}. "
                f"Its models: {', '.join(names)}.",
                icon=":material/link:",
            )
    name = st.sidebar.selectbox(label, names, format_func=lambda n: titles.get(n, n), key=key)
    st.query_params[key] = name
    model = get_model(name)
    if model is None:
        st.stop()
    return model


def timed_call(fn, repeats: int = 2) -> float:
    """The fastest of a few runs of fn(), in seconds: a quick measurement before something slow starts."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def linked_int(key: str, lo: int, hi: int, label: str) -> bool:
    """A number a link may carry (?n=100000): one out of [lo, hi] is clamped into it, and the page says so in one
    line instead of silently falling back to the default. True if the session holds the value (the widget then takes
    no default of its own)."""
    raw = st.query_params.get(key)
    if raw is not None and key not in st.session_state:
        try:
            value = int(float(raw))
        except ValueError:
            st.info(f"The link's {label}, {raw!r}, is not a number: the default is used.", icon=":material/link:")
            del st.query_params[key]
            return False
        if not lo <= value <= hi:
            clamped = min(max(value, lo), hi)
            st.info(
                f"The link asked for {label} {value:,}; it is between {lo:,} and {hi:,}, so {clamped:,}.",
                icon=":material/link:",
            )
            st.session_state[key] = clamped
            st.query_params[key] = str(clamped)
    return key in st.session_state


def seed_input(key: str = "seed", label: str = "Seed") -> int:
    held = linked_int(key, 0, MAX_SEED, "seed")
    return int(
        st.sidebar.number_input(
            label,
            min_value=0,
            max_value=MAX_SEED,
            value="min" if held else 0,
            step=1,
            key=key,
            help="The same seed gives the same pictures, in every model that shares the latent size.",
            bind="query-params",
        )
    )


def temperature(family: str, latent: bool) -> float:
    """A temperature slider whose value is kept per family: it means different things in each (the prior's
    scale for latent models, a divisor of the logits for autoregressive ones), so 1.8 chosen for a VAE
    does not silently turn a PixelCNN's samples into noise."""
    return float(
        st.sidebar.slider(
            "Temperature (prior scale)" if latent else "Temperature",
            0.1,
            2.0,
            1.0,
            step=0.05,
            key=f"temperature_{family}",
            bind="query-params",
            help="Codes are drawn with this many times the prior's standard deviation: below 1 gives typical, "
            "cleaner digits; above 1 reaches the edges of the latent space."
            if latent
            else "Divides each pixel's logit: below 1 picks the likelier value more often, above 1 adds noise.",
        )
    )


def step_grid(lo: float, hi: float, value: float, positions: int = 100) -> tuple[float, float, float, float, str]:
    """(min, max, value, step, format) for a float slider over [lo, hi], every number on one decimal grid.

    The browser snaps a slider's value to min + k * step and rounds it to the step's decimals (one more, in
    fact), so with an unrounded min such as Scott's rule / 10 = 0.0634 it sends 0.063 for the leftmost
    position. That is below min, and Streamlit then silently returns the default instead: the label moves,
    the result does not. A power-of-ten step (at least ``positions`` of them across the range) and bounds
    and value that are multiples of it are sent back exactly."""
    step = 10.0 ** math.floor(math.log10((hi - lo) / positions))
    decimals = max(0, -math.floor(math.log10(step)))

    def snap(x: float) -> float:
        return round(max(1, round(x / step)) * step, decimals)

    lo, hi = snap(lo), snap(hi)
    return lo, hi, min(max(snap(value), lo), hi), round(step, decimals), f"%.{decimals}f"


def clamp_int(value, lo: int, hi: int, default: int) -> int:
    """A value that may have come from anywhere (session state, an old link) as an int in [lo, hi]."""
    try:
        return min(max(int(value), lo), hi)
    except (TypeError, ValueError, OverflowError):
        return default


def digit_picker(key: str, label: str = "Test digit", default: int = 0) -> int:
    """Index of a test digit: a number box with a random button."""
    n = len(test_digits())
    st.session_state[key] = clamp_int(st.session_state.get(key), 0, n - 1, default)
    if st.button("Random digit", key=f"{key}_random", icon=":material/casino:"):
        st.session_state[key] = int(np.random.default_rng().integers(n))
    return int(st.number_input(label, min_value=0, max_value=n - 1, step=1, key=key))


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
        help="A class-conditional model is told which digit to draw: every layer gets a bias learned for that digit.",
    )


def class_labels(n: int) -> np.ndarray:
    """n class labels from the sidebar's class picker: one class n times, or 0, 1, 2, ... in turn."""
    choice = class_picker()
    return np.arange(n) % 10 if choice == "each" else np.full(n, int(choice))


@dataclass(frozen=True)
class DigitInput:
    image: np.ndarray  # (28, 28) float32 in [0, 1], MNIST style
    binary: np.ndarray  # (28, 28) float32 {0, 1}: the fixed binarization likelihoods use
    label: int | None  # the true class, for test digits
    description: str
    shown: bool = False  # the input widget already showed ``image``, what the models see (uploads, drawings)
    warning: str | None = None  # why the preprocessed picture may not look like a digit

    @property
    def eight_bit(self) -> np.ndarray:
        """The image at 256 grey levels (/255), as the 8-bit test split and the 8-bit models see it."""
        return (np.rint(np.clip(self.image, 0, 1) * 255) / 255).astype(np.float32)

    def of_kind(self, image_kind: str) -> np.ndarray:
        """What a model of this kind scores: the fixed binarization, or the 8-bit image."""
        return self.binary if image_kind == "binary" else self.eight_bit


TRACKS = {"binary": "Binary digits", "grayscale": "8-bit digits"}


def likelihood_track(entries: list, key: str = "likelihood_track") -> tuple[str, list]:
    """Which likelihood track to show, "binary" or "grayscale", among the models' own (a choice only when both are
    there), and the entries on it: a binary digit and an 8-bit one are different data, never mixed."""
    kinds = [k for k in TRACKS if any(e.capabilities.image_kind == k for e in entries)] or ["binary"]
    track = kinds[0] if len(kinds) == 1 else _track_control(kinds, key)
    return track, [e for e in entries if e.capabilities.image_kind == track]


def _track_control(kinds: list[str], key: str) -> str:
    return st.sidebar.segmented_control(
        "Likelihood track", kinds, format_func=TRACKS.get, default=kinds[0], key=key, required=True,
        help="Binary: the digits binarized once, as every binary model is scored; 8-bit: the same digits at their "
        "256 grey levels. The two are different data: their likelihoods are not comparable.",
    )  # fmt: skip


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
        return DigitInput(
            digits.gray(index), digits.binary[index].astype(np.float32), label, f"test digit {index}, a {label}"
        )
    if source == "Upload":
        # No type= filter: the content, not the name, decides (a .png may be text, an .svg is refused
        # with a reason), and a filter would raise before the page could explain anything. The server takes
        # files up to 25 MB (.streamlit/config.toml), so one over the app's 5 MB reaches this code and is
        # refused with the limit said, in place of the last file's message; the browser alone would only mark
        # it red and leave that message on screen.
        limit = f"{img.MAX_UPLOAD_BYTES / 1e6:.0f} MB"
        upload = st.file_uploader(
            f"A picture of one digit (up to {limit})",
            key="upload",
            help=f"PNG, JPEG, GIF, BMP, WebP or TIFF, up to {limit}. Dark on light or light on dark; uneven "
            "lighting is corrected.",
        )
        if upload is None:
            st.info(f"Upload a picture of a single digit (up to {limit}), dark on light or light on dark.")
            return None
        try:
            prepared = img.upload_digit(upload.getvalue(), upload.name)
        except img.ImageInputError as err:
            display.error(f"That upload cannot be used: {err}", icon=":material/broken_image:")
            return None
        return _shown(prepared, f"your upload {upload.name}")
    rgba = drawing()
    if rgba is None:
        st.info("Draw one digit on the black square, large and in the middle.")
        return None
    try:
        prepared = img.drawing_digit(rgba)
    except img.ImageInputError as err:
        st.warning(str(err), icon=":material/draw:")
        return None
    return _shown(prepared, "your drawing")


DRAWING = "drawing"  # the last drawing: a key of the session's, not the canvas's, so it outlives the page


def drawing() -> np.ndarray | None:
    """The canvas's RGBA pixels once something is drawn, else None; the drawing is kept for the session.

    A widget's state goes with its page: the canvas came back empty after a visit to another page. So the last
    drawing (its strokes and its pixels) is kept under a key of the session's, and a new canvas starts from those
    strokes. A new canvas does not send its pixels until it is drawn on, so until then the kept ones stand in."""
    from streamlit_drawable_canvas import st_canvas  # a browser component: imported only when drawing

    kept = st.session_state.get(DRAWING)
    if "canvas" not in st.session_state:  # nothing sent yet: a canvas new on this page, started from the kept strokes
        # The same strokes on every rerun until it sends: a changed initial_drawing would reload the canvas.
        st.session_state["canvas_start"] = kept["strokes"] if kept else None
    # On hover the canvas's toolbar (undo, redo, clear) rises 2.65 rem above the square, where it covered the
    # input choice's "Draw": the square's container keeps that much room free above it.
    st.html("<style>.st-key-draw_pad { padding-top: 2.75rem; }</style>")
    with st.container(key="draw_pad"):
        canvas = st_canvas(
            stroke_width=22,
            stroke_color="#FFFFFF",
            background_color="#000000",
            width=280,
            height=280,
            drawing_mode="freedraw",
            initial_drawing=st.session_state.get("canvas_start"),
            return_image_data=True,
            key="canvas",
        )
    strokes = (canvas.json_data or {}).get("objects")
    if not strokes:  # nothing drawn, or the canvas was cleared: nothing to keep either
        st.session_state.pop(DRAWING, None)
        return None
    rgba = canvas.image_data
    if rgba is not None:
        st.session_state[DRAWING] = {"strokes": canvas.json_data, "rgba": rgba}
        return rgba
    return kept["rgba"] if kept and kept["strokes"]["objects"] == strokes else None


def _shown(prepared: img.Prepared, description: str) -> DigitInput:
    """Show the 28 x 28 the models will see (crisp, as every digit in the app), with the warning if the
    preprocessing found something that does not look like a digit; the page gets both."""
    display.show_digit(prepared.image, caption=f"What the models see: {description}, as a 28 x 28 MNIST digit")
    if prepared.warning:
        st.warning(prepared.warning, icon=":material/warning:")
    image = prepared.image
    return DigitInput(image, img.binarize(image), None, description, shown=True, warning=prepared.warning)
