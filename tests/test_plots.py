"""The app's matplotlib figures: text sized for the width they are shown at, and the GAN lab's animation
frames, drawn from one background, the same as a figure drawn whole."""

import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PIL import Image  # noqa: E402

from app import plots  # noqa: E402


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
    assert Image.open(io.BytesIO(png)).width == plots.HIDPI * width, "drawn at twice the shown size"


def test_nll_tiles_line_up_whatever_their_titles():
    nll = np.random.default_rng(0).random((28, 28))
    short = plots.nll_heatmap(nll, "PixelCNN", map_px=168)
    long = plots.nll_heatmap(nll, "Gated PixelCNN, class-\nconditional, given the class 0", map_px=168)
    for fig in (short, long):
        ax = fig.axes[0]
        assert ax.get_position().width * fig.get_figwidth() * fig.dpi == pytest.approx(168), "as wide as the digit"
    assert short.axes[0].get_position().bounds == long.axes[0].get_position().bounds
    assert short.get_size_inches().tolist() == long.get_size_inches().tolist()
    plt.close("all")


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
