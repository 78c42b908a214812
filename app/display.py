"""How every page shows things: its header, digits (crisp, never 28-pixel thumbnails), progress,
and what is missing."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import streamlit as st

from inference import images as img
from inference.registry import ModelEntry


def header(title: str, lesson: str) -> None:
    """Every page opens the same way: a title, and one line tying the picture to the idea."""
    st.title(title)
    st.caption(lesson)


def show_digits(images: np.ndarray, cols: int | None = None, caption: str | None = None, scale: int = 4) -> None:
    """A grid of digits, upscaled crisply (nearest neighbour), shown at its own pixel size."""
    _crisp(img.upscale(img.tile(images, cols), scale), caption)


def show_digit(image: np.ndarray, caption: str | None = None, scale: int = img.DISPLAY_SCALE) -> None:
    _crisp(img.upscale(image, scale), caption)


FIXED_WIDTH_PX = 320  # narrower than any column a digit is shown in, on a laptop or on a phone


def _crisp(picture, caption: str | None) -> None:
    """At its own pixel width where that surely fits: with width="content" the browser stretches an image to
    the width of a longer caption (a 168 px digit showed 252 px wide, each pixel smeared over 1.5). A wider
    grid keeps "content", which shrinks it to a narrow column instead of letting it overflow. As PNG: a
    JPEG's ringing blurs the edges of the pixels."""
    width = picture.width if picture.width <= FIXED_WIDTH_PX else "content"
    st.image(picture, caption=caption, width=width, output_format="PNG")


@contextmanager
def timed(message: str) -> Iterator[dict]:
    """A spinner while the block runs; the dict it yields gets ``seconds`` afterwards."""
    result: dict = {}
    with st.spinner(message, show_time=True):
        start = time.perf_counter()
        yield result
        result["seconds"] = time.perf_counter() - start


def warn_unavailable(entries: list[ModelEntry]) -> None:
    """One sidebar line per model that cannot be used, with the reason."""
    for e in entries:
        st.sidebar.warning(f"**{e.title}** is unavailable: {e.problem}.", icon=":material/warning:")


def require(entries: list, what: str, command: str = "python -m training all") -> list:
    """The entries, or the page stops with a message naming what it needs and how to get it."""
    if not entries:
        st.info(f"No {what} is available. Run `{command}`.")
        st.stop()
    return entries


def error(message: str, icon: str = ":material/error:") -> None:
    st.error(message, icon=icon)
