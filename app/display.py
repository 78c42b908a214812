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

PHONE_WIDTH_PX = 768  # at this width and below, Streamlit collapses the sidebar behind the » at the top left

# Each page's CSS: the settings hint shows only where the sidebar is collapsed, and every digit image is drawn
# with its pixels as blocks even where the browser resizes it (a grid cell on a phone).
PAGE_CSS = f"""
@media (min-width: {PHONE_WIDTH_PX + 1}px) {{ :has(> .st-key-settings_hint) {{ display: none; }} }}
img[alt^="Digit"] {{ image-rendering: pixelated; }}
"""


def header(title: str, lesson: str, settings: str | None = None) -> None:
    """Every page opens the same way: a title, and one line tying the picture to the idea.

    ``settings`` names the page's main controls, which live in the sidebar: on a phone the sidebar is collapsed
    and nothing on the page says it is there, so there (only) one line says where to find them."""
    st.html(f"<style>{PAGE_CSS}</style>")
    st.title(title)
    st.caption(lesson)
    if settings:
        with st.container(key="settings_hint"):
            st.markdown(f":material/tune: {settings}: open it with **»** at the top left.")


def show_digits(
    images: np.ndarray,
    cols: int | None = None,
    caption: str | None = None,
    scale: int = 4,
    labels: list[str] | None = None,
) -> None:
    """A grid of digits, each upscaled crisply (nearest neighbour) and shown as its own image in a CSS grid.

    One tiled picture kept its ``cols`` columns on any screen: on a 400 px phone, 8 columns shrank each digit
    to 44 px. As separate images, the browser lays them out ``cols`` to a row where they fit at full size and
    wraps them to fewer, never narrower than MIN_DIGIT_PX, where they do not. Each image's alt text says
    where it belongs ("Digit 3 of 16 (8 per row, 112 px)"), which is what the grid's CSS rule selects on, and
    what the browser test reads. ``labels``: one caption under each digit; ``caption``: one under the grid."""
    images = np.asarray(images, dtype=np.float32)
    if images.ndim == 4:  # (N, 1, H, W)
        images = images[:, 0]
    n = len(images)
    cols = min(cols or int(np.ceil(np.sqrt(n))), n)
    size = images.shape[-1] * scale
    layout = f"({cols} per row, {size} px)"
    st.html(f"<style>{_grid_css(layout, cols, size, gap=scale)}</style>")  # style only: takes no space
    st.image(
        [img.upscale(image, scale) for image in images],
        width=size,
        output_format="PNG",  # a JPEG's ringing blurs the edges of the pixels
        caption=labels,
        alt=[f"Digit {i + 1} of {n} {layout}" for i in range(n)],
    )
    if caption:
        st.caption(caption)


MIN_DIGIT_PX = 84  # a grid wraps to fewer columns rather than show a digit narrower (3 screen pixels per pixel)


def _grid_css(layout: str, cols: int, size: int, gap: int) -> str:
    """The CSS grid for one layout: at most ``cols`` columns of at most ``size`` px, as many as fit at
    MIN_DIGIT_PX or more, with the gray lines of inference.images.tile between them. The lines are each digit's
    outline, not the grid's background: a row that wraps (10 digits where 8 fit) leaves its empty cells empty."""
    least = min(size, MIN_DIGIT_PX)
    grid = f'[data-testid="stImage"]:has(> [data-testid="stImageContainer"] > img[alt$="{layout}"])'
    return f"""
{grid} {{
  display: grid; gap: {gap}px; padding: {gap}px; box-sizing: border-box;
  width: {cols * size + (cols + 1) * gap}px; max-width: 100%;
  grid-template-columns: repeat(auto-fill, minmax(max({least}px, calc((100% - {(cols - 1) * gap}px) / {cols})), 1fr));
}}
{grid} > [data-testid="stImageContainer"] > img {{
  width: 100% !important; border-radius: 0; outline: {gap}px solid rgb(89, 89, 89);
}}
"""


def show_digit(image: np.ndarray, caption: str | None = None, scale: int = img.DISPLAY_SCALE) -> None:
    _crisp(img.upscale(image, scale), caption, alt="Digit, 28 x 28 pixels")


def show_digit_marked(image: np.ndarray, pixel: tuple[int, int], caption: str | None = None, scale: int = 8) -> None:
    """A digit with one pixel outlined in red (the one a page is about)."""
    from PIL import ImageDraw

    picture = img.upscale(image, scale).convert("RGB")
    i, j = pixel
    ImageDraw.Draw(picture).rectangle(
        [j * scale, i * scale, (j + 1) * scale - 1, (i + 1) * scale - 1],
        outline=(255, 75, 75),
        width=max(2, scale // 4),
    )
    _crisp(picture, caption, alt=f"Digit, 28 x 28 pixels, pixel ({i}, {j}) outlined")


FIXED_WIDTH_PX = 320  # narrower than any column a digit is shown in, on a laptop or on a phone


def _crisp(picture, caption: str | None, alt: str | None = None) -> None:
    """At its own pixel width where that surely fits: with width="content" the browser stretches an image to
    the width of a longer caption (a 168 px digit showed 252 px wide, each pixel smeared over 1.5). A wider
    picture keeps "content", which shrinks it to a narrow column instead of letting it overflow. As PNG: a
    JPEG's ringing blurs the edges of the pixels."""
    width = picture.width if picture.width <= FIXED_WIDTH_PX else "content"
    st.image(picture, caption=caption, width=width, output_format="PNG", alt=alt)


def show_tiled(images: np.ndarray, cols: int, caption: str | None = None, scale: int = 1) -> None:
    """Digits whose places mean something (a grid over a latent plane) as one tiled picture: never rewrapped."""
    _crisp(img.upscale(img.tile(images, cols), scale), caption, alt=f"Grid of {len(images)} decoded digits")


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
