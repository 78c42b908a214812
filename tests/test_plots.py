"""The app's figures, drawn straight to pixels with PIL (no matplotlib at run time): cells, dots and lines where
they belong, the colour maps matplotlib would use, pictures passed to the browser as drawn, and the GAN lab's
snapshots drawn on demand."""

import io
import runpy
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from app import plots, raster

REPO = Path(__file__).resolve().parent.parent


def test_the_stored_colour_maps_are_matplotlibs():
    """app/colormaps.npz, written by scripts/colormaps.py: rerun it if a map is added or matplotlib changes one."""
    pytest.importorskip("matplotlib")
    expected = runpy.run_path(str(REPO / "scripts" / "colormaps.py"))["tables"]()
    for name, table in expected.items():
        np.testing.assert_array_equal(raster.colormap(name), table, name)


def test_ticks_are_round_and_inside_the_range():
    assert raster._ticks(-4, 4) == [-4, -2, 0, 2, 4]
    assert raster._ticks(0, 1) == [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
    assert raster._ticks(-12.3, 0) == [-10.0, -7.5, -5.0, -2.5, 0.0]
    for lo, hi in [(-3.16, 3.16), (0, 0.37), (2.5, 7.3), (-1e-3, 4e-3)]:
        ticks = raster._ticks(lo, hi)
        assert 2 <= len(ticks) <= 6 and lo - 1e-12 <= min(ticks) and max(ticks) <= hi + 1e-12
        steps = np.diff(ticks)
        np.testing.assert_allclose(steps, steps[0])
        assert steps[0] / 10 ** np.floor(np.log10(steps[0])) in (1, 2, 2.5, 5)


def test_streamlit_shows_the_pictures_as_they_were_drawn():
    """st.image shrinks a picture wider than its width and encodes it again: drawn at twice the size, each figure
    cost that work and reached the browser shrunk anyway. At the size shown, the bytes pass through untouched."""
    from streamlit.elements.lib.image_utils import _ensure_image_size_and_format
    from streamlit.elements.lib.layout_utils import LayoutConfig

    png = raster.heatmap(np.eye(3), 0, 1, "magma", "t", "u", 120)
    assert _ensure_image_size_and_format(png, LayoutConfig(width=raster.shown_width(png)), "PNG") is png
    frame = gan_lab_run().frame(0)
    jpeg = plots.gan_lab_frame(frame, "t", 460)
    assert raster.shown_width(jpeg) == 460
    assert _ensure_image_size_and_format(jpeg, LayoutConfig(width=460), "JPEG") is jpeg


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
    lut = raster.colormap("viridis")
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


def test_lines_are_drawn_between_their_points():
    axes = raster.Axes(4.0, "x", "y")
    line = raster.Lines(np.array([[[-4.0, 0.0], [4.0, 0.0]]]), "#FF0000", alpha=1.0, width_px=2)
    img = picture(raster.heatmap(np.zeros((10, 10)), 0, 1, "gray", "t", "u", 200, axes=axes, lines=(line,)))
    red = np.argwhere((img[..., 0] > 200) & (img[..., 1] < 60) & (img[..., 2] < 60))
    black = np.argwhere((img == 0).all(-1))
    top, left = black.min(0)
    assert red[:, 1].max() - red[:, 1].min() >= 195, "across the whole map"
    assert np.abs(red[:, 0] - (top + 100)).max() <= 2, "at y = 0, halfway down"


def gan_lab_run():
    from inference.ganlab import load_lab

    return load_lab()[0][0]


def test_gan_lab_frames_show_each_snapshot_and_what_is_switched_on():
    """Each snapshot its own picture, 460 px wide as the page shows it; the heat map (and its colour bar) and the
    noise grid only when asked for."""
    run = gan_lab_run()
    titles = [f"step {int(s):,}" for s in run.steps]
    every = plots.GanLabFrames(run.frame, titles, 460)
    bare = plots.GanLabFrames(run.frame, titles, 460, show_mesh=False, show_heat=False)
    last = len(titles) - 1
    assert len({every[0], every[last // 2], every[last]}) == 3, "each frame shows its own snapshot"
    purple, mesh = raster.colormap("PuOr_r")[0].astype(int), np.array([0x9A, 0xD1, 0xFF])

    def near(img, color, tol=12):
        return int((np.abs(img.astype(int) - color).max(-1) <= tol).sum())

    with_all, without = picture(every[last]), picture(bare[last])
    assert with_all.shape[1] == without.shape[1] == 460
    assert near(with_all, purple) > 50 and near(without, purple) == 0, "the colour bar's end, only with the heat map"
    assert near(with_all, mesh, 20) > near(without, mesh, 20), "the noise grid's lines, and its legend key"


def test_gan_lab_snapshots_drawn_on_demand_in_any_order_are_the_same_pictures():
    """The page draws only the snapshot it shows; scrubbing back must not leave anything of a later one behind."""
    run = gan_lab_run()
    titles = [f"step {int(s):,}" for s in run.steps]
    in_order = plots.GanLabFrames(run.frame, titles, 460)
    in_order = [in_order[i] for i in range(len(titles))]
    on_demand = plots.GanLabFrames(run.frame, titles, 460)
    for i in (len(titles) - 1, 0, len(titles) // 2, 0):
        assert on_demand[i] == in_order[i]
    assert sum(p is not None for p in on_demand._pictures) == 3, "only the snapshots asked for were drawn"
