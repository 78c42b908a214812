"""The app's figures: matplotlib's with text sized for the width they are shown at, heat maps drawn straight
to pixels where their cells and dots belong, and the GAN lab's animation frames, drawn from one background, the
same as a figure drawn whole."""

import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PIL import Image  # noqa: E402

from app import plots, raster  # noqa: E402


@pytest.mark.parametrize("width", [250, 460, 900])
def test_figure_text_reads_at_the_same_size_whatever_the_width(width):
    fig, ax = plt.subplots(figsize=(6.4, 4.8))
    ax.plot([0, 1], [0, 1])
    title = ax.set_title("a title")  # 'large': 1.2 x the base size
    label = ax.set_xlabel("a label", fontsize=7)  # drawn small: raised to the floor
    png = plots.figure_png(fig, width)
    shown_px = width / (72 * fig.get_figwidth())  # px on the page per point of text
    assert title.get_fontsize() * shown_px == pytest.approx(1.2 * plots.FONT_PX)
    assert label.get_fontsize() * shown_px == pytest.approx(plots.MIN_FONT_PX)
    ticks = ax.xaxis.get_ticklabels()
    assert ticks and min(t.get_fontsize() for t in ticks) * shown_px >= plots.MIN_FONT_PX - 1e-9
    assert Image.open(io.BytesIO(png)).width == plots.HIDPI * width


def test_streamlit_shows_the_pictures_as_they_were_drawn():
    """st.image shrinks a picture wider than its width and encodes it again: drawn at twice the size, each figure
    cost that work and reached the browser shrunk anyway. At the size shown, the bytes pass through untouched."""
    from streamlit.elements.lib.image_utils import _ensure_image_size_and_format
    from streamlit.elements.lib.layout_utils import LayoutConfig

    fig, ax = plt.subplots(figsize=(4, 3))
    ax.plot([0, 1], [0, 1])
    for png in (plots.figure_png(fig, 300), raster.heatmap(np.eye(3), 0, 1, "magma", "t", "u", 120)):
        width = raster.shown_width(png)
        assert _ensure_image_size_and_format(png, LayoutConfig(width=width), "PNG") is png


def picture(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


def test_nll_tiles_line_up_whatever_their_titles():
    nll = np.random.default_rng(0).random((28, 28))
    short = raster.heatmap(nll, 0, 1, "magma", "PixelCNN", "nats per pixel", 168, title_lines=3)
    long = raster.heatmap(nll, 0, 1, "magma", "Gated PixelCNN, class-\nconditional, given the class 0",
                          "nats per pixel", 168, title_lines=3)  # fmt: skip
    a, b = picture(short), picture(long)
    assert a.shape == b.shape
    assert raster.shown_width(short) * plots.HIDPI == a.shape[1]
    below_titles = a.shape[0] - (168 + 20) * plots.HIDPI
    np.testing.assert_array_equal(a[below_titles:], b[below_titles:], "the maps and colour bars at the same place")


def test_heat_map_cells_take_the_colour_maps_colours_and_row_0_is_at_the_bottom_with_axes():
    values = np.array([[0.0, 1.0], [1.0, 0.0]])
    lut = raster._lut("viridis")
    for axes in (None, raster.Axes(4.0, "x", "y")):
        img = picture(raster.heatmap(values[::-1] if axes else values, 0, 1, "viridis", "t", "u", 100, axes=axes))
        # the map's top-left cell holds value 0 in both cases: find it as the first pixel of lut[0]
        where = np.argwhere((img == lut[0]).all(-1))
        top, left = where.min(0)
        cell = 100 * plots.HIDPI // 2
        assert (img[top + cell // 2, left + cell // 2] == lut[0]).all()
        assert (img[top + cell // 2, left + cell + cell // 2] == lut[255]).all()
        assert (img[top + cell + cell // 2, left + cell // 2] == lut[255]).all()


def test_dots_land_at_their_data_coordinates():
    flat = np.zeros((10, 10))
    axes = raster.Axes(4.0, "x", "y")
    dot = raster.Dots(np.array([[2.0, 2.0]]), "#FF0000", alpha=1.0, radius_px=3)
    img = picture(raster.heatmap(flat, 0, 1, "gray", "t", "u", 200, axes=axes, dots=(dot,))).astype(int)
    red = np.argwhere((img[..., 0] > 200) & (img[..., 1] < 60) & (img[..., 2] < 60))
    assert len(red)
    black = np.argwhere((img == 0).all(-1))  # the map: value 0 in the grey map, 200 x 200 shown px from its corner
    (top, left), side = black.min(0), 200 * plots.HIDPI
    bottom, right = top + side, left + side
    y, x = red.mean(0)
    assert x == pytest.approx(left + 0.75 * (right - left), abs=3)  # x = 2 of [-4, 4]
    assert y == pytest.approx(top + 0.25 * (bottom - top), abs=3)  # y = 2, up from the bottom


def test_gan_lab_frames_match_frames_drawn_whole():
    from inference.ganlab import load_lab

    run = load_lab()[0][0]
    indices = [0, len(run.steps) // 2, len(run.steps) - 1]
    frames = [run.frame(i) for i in indices]
    titles = [f"step {f['step']:,}" for f in frames]
    fast = plots.gan_lab_frames(frames, titles, 460)
    for picture, frame, title in zip(fast, frames, titles, strict=True):
        whole = plots.figure_png(plots.gan_lab_frame(frame, title), 460)
        a = np.asarray(Image.open(io.BytesIO(picture)).convert("RGB"), np.float64)
        b = np.asarray(Image.open(io.BytesIO(whole)).convert("RGB"), np.float64)
        assert a.shape == b.shape
        assert np.abs(a - b).mean() < 2.5, "the same picture, up to JPEG's loss"
    assert len(set(fast)) == len(fast), "each frame shows its own snapshot"


def test_gan_lab_snapshots_drawn_on_demand_in_any_order_are_the_same_pictures():
    """The page draws only the snapshot it shows; scrubbing back must not leave anything of a later one behind."""
    from inference.ganlab import load_lab

    run = load_lab()[0][0]
    titles = [f"step {int(s):,}" for s in run.steps]
    in_order = plots.gan_lab_frames([run.frame(i) for i in range(len(titles))], titles, 460)
    on_demand = plots.GanLabFrames(run.frame, titles, 460)
    for i in (len(titles) - 1, 0, len(titles) // 2, 0):
        assert on_demand[i] == in_order[i]
    assert sum(p is not None for p in on_demand._pictures) == 3, "only the snapshots asked for were drawn"
    plt.close("all")
