"""Figures that are easier to draw with matplotlib than with Streamlit's charts, and the one way they
reach the page (:func:`show`), with text sized for the width they are shown at."""

from __future__ import annotations

import io

import numpy as np
import streamlit as st
from PIL import Image

from inference import images as img

# The app's dark theme (.streamlit/config.toml), so figures sit in the page like its own elements.
BACKGROUND = "#10131A"
FOREGROUND = "#E8EAF0"
FONT_PX = 13.0  # figure text as large on screen as the page's captions, whatever the figure's size
MIN_FONT_PX = 11.0  # text drawn smaller than the base size (tick labels, a colour bar's) never below this
# Pixels drawn per pixel shown. Not 2 for high-density screens: st.image shrinks any picture wider than the width
# it is shown at (bilinear) and encodes it again, so twice the pixels cost drawing, encoding, decoding and resizing
# time (~10 ms a picture) and the browser got the shrunk picture anyway (tests/test_plots.py).
HIDPI = 1


def _fit_text(fig, width: int, font_px: float, tight: bool) -> None:
    """Resize every text of the figure to read as ``font_px`` when it is shown ``width`` px wide."""
    import matplotlib.pyplot as plt
    from matplotlib.text import Text

    points_per_px = 72 * fig.get_figwidth() / width  # text of s points shows as s / points_per_px px
    base = plt.rcParams["font.size"]

    def resized(points: float) -> float:
        return max(points / base * font_px, MIN_FONT_PX) * points_per_px

    fig.canvas.draw()  # tick labels exist only once the figure has been drawn
    done = set()
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            labels = axis.get_ticklabels()
            if labels:
                axis.set_tick_params(labelsize=resized(labels[0].get_fontsize()))
                done.update(id(t) for t in axis.get_ticklabels())
    for text in fig.findobj(Text):
        if id(text) not in done:
            text.set_fontsize(resized(text.get_fontsize()))
    if tight and fig.get_layout_engine() is None:
        fig.tight_layout()


def figure_png(fig, width: int, font_px: float = FONT_PX, tight: bool = True) -> bytes:
    """The figure as PNG bytes for showing ``width`` px wide, its text resized to read as ``font_px`` there.

    matplotlib sizes text in points on a figure measured in inches; once the browser scales the picture to
    the column, an 8-point label can end up 5 px high. Here every text keeps its size relative to the base
    font (titles stay larger than tick labels), and the base is set so that it shows ``font_px`` high at
    ``width`` px. The figure is closed."""
    import matplotlib.pyplot as plt

    _fit_text(fig, width, font_px, tight)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=HIDPI * width / fig.get_figwidth(), facecolor=fig.get_facecolor())
    plt.close(fig)
    return buf.getvalue()


def show(fig, width: int | None = None, where=None, caption: str | None = None, tight: bool = True) -> None:
    """Every matplotlib figure reaches the page here: rendered for ``width`` px (:func:`figure_png`; default,
    its own size at its dpi) and shown at that width, so its text is as readable as the page's own."""
    width = width or round(fig.get_figwidth() * fig.dpi)
    (where or st).image(figure_png(fig, width, tight=tight), width=width, caption=caption)


def _dark(fig, ax) -> None:
    fig.patch.set_facecolor(BACKGROUND)
    ax.set_facecolor(BACKGROUND)
    ax.tick_params(colors=FOREGROUND)
    ax.xaxis.label.set_color(FOREGROUND)
    ax.yaxis.label.set_color(FOREGROUND)
    for spine in ax.spines.values():
        spine.set_color(FOREGROUND)


def _colorbar(fig, ax, image, label: str) -> None:
    bar = fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    bar.set_label(label, color=FOREGROUND, fontsize=8)
    bar.ax.tick_params(colors=FOREGROUND, labelsize=7)


def manifold_grid(model, span: float = 3.0, cells: int = 20) -> np.ndarray:
    """Decode a cells x cells grid of 2-d codes over [-span, span]^2: one tiled image, z2 up."""
    ticks = np.linspace(-span, span, cells, dtype=np.float32)
    z1, z2 = np.meshgrid(ticks, ticks[::-1])  # row 0 is the top, where z2 is largest
    codes = np.stack([z1.ravel(), z2.ravel()], axis=1)
    return img.tile(model.decode(codes), cols=cells, pad=0)


def latent_manifold(model, mu: np.ndarray, labels: np.ndarray, span: float = 3.0, cells: int = 20, dots: bool = True):
    """The decoded latent grid with encoded test means scattered over it (``dots``), colored by digit: small and
    translucent, so the decoded digits under them stay readable where the codes crowd (the map's centre)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    grid = manifold_grid(model, span, cells)
    half_cell = span / (cells - 1)
    extent = (-span - half_cell, span + half_cell, -span - half_cell, span + half_cell)
    fig, ax = plt.subplots(figsize=(7.5, 6.5), dpi=110)
    _dark(fig, ax)
    ax.imshow(grid, cmap="gray", extent=extent, interpolation="nearest", vmin=0, vmax=1)
    inside = (np.abs(mu) <= span + half_cell).all(1)
    colors = plt.get_cmap("tab10")
    for digit in range(10) if dots else ():
        sel = inside & (labels == digit)
        ax.scatter(mu[sel, 0], mu[sel, 1], s=5, color=colors(digit), alpha=0.6, linewidths=0, label=str(digit))
    ax.set_xlim(extent[:2])
    ax.set_ylim(extent[2:])
    ax.set_xlabel("z₁ (latent units: standard deviations of the N(0, 1) prior)")
    ax.set_ylabel("z₂ (latent units)")
    if dots:
        legend = ax.legend(
            title="Test digit", loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False, labelcolor=FOREGROUND,
            markerscale=2.5,
        )  # fmt: skip
        for handle in legend.legend_handles:
            handle.set_alpha(1)
        legend.get_title().set_color(FOREGROUND)
    outside = int((~inside).sum())
    if outside and dots:
        ax.set_title(f"{outside} of {len(mu)} test codes fall outside the grid", fontsize=9, color=FOREGROUND)
    fig.tight_layout()
    return fig


def nll_distribution(test_nll: dict[str, np.ndarray], marks: dict[str, float], unit: str = "nats"):
    """Histograms of test-split NLLs per model, each with a rule where the chosen image falls."""
    import altair as alt
    import pandas as pd

    label = "NLL (nats per image)" if unit == "nats" else "NLL (bits/dim)"
    hist = pd.DataFrame([{"model": m, "nll": float(v)} for m, vals in test_nll.items() for v in vals])
    rules = pd.DataFrame([{"model": m, "nll": float(v), "what": "this image"} for m, v in marks.items()])
    bars = (
        alt.Chart(hist)
        .mark_bar(opacity=0.55)
        .encode(
            x=alt.X("nll:Q", bin=alt.Bin(maxbins=50), title=label),
            y=alt.Y("count():Q", stack=None, title="test digits"),
            # one model a row: two long titles side by side do not fit a phone's width
            color=alt.Color("model:N", title="Model", legend=alt.Legend(orient="bottom", labelLimit=0, columns=1)),
        )
    )
    lines = (
        alt.Chart(rules)
        .mark_rule(strokeWidth=3, strokeDash=[6, 3])
        .encode(x="nll:Q", color=alt.Color("model:N"), tooltip=["model", alt.Tooltip("nll:Q", format=".1f")])
    )
    return (bars + lines).properties(height=300 + 28 * len(test_nll))  # the height includes the legend below


def pixel_distribution(prediction: dict, true_level: int, log_scale: bool = False):
    """One pixel's predicted distribution over the grey levels 0..255: bars for a softmax; for a logistic
    mixture the whole as an area and each component (weighted) as a line. A red rule marks the true level."""
    import altair as alt
    import pandas as pd

    levels = np.arange(len(prediction["probs"]))
    floor = 1e-6  # the log axis starts here: a level's probability can be as small as e^-40
    y_scale = alt.Scale(type="log", domain=[floor, 1]) if log_scale else alt.Scale(zero=True)
    y_title = "probability (log scale)" if log_scale else "probability"
    x = alt.X("level:Q", title="grey level (0 black, 255 white)", scale=alt.Scale(domain=[0, 255], nice=False))
    whole = pd.DataFrame({"level": levels, "probability": np.maximum(prediction["probs"], floor)})
    if "components" in prediction:
        names = [
            f"{k + 1}: weight {w:.2f}, centre {m:.0f}, scale {s:.1f}"
            for k, (w, m, s) in enumerate(
                zip(prediction["weights"], prediction["means"], prediction["scales"], strict=True)
            )
        ]
        parts = pd.DataFrame(
            [
                {"level": int(v), "probability": max(float(p), floor), "component": name}
                for name, row in zip(names, prediction["components"], strict=True)
                for v, p in zip(levels, row, strict=True)
            ]
        )
        base = (
            alt.Chart(whole)
            .mark_area(opacity=0.35, color="#9aa4b8", interpolate="step-after")
            .encode(x=x, y=alt.Y("probability:Q", scale=y_scale, title=y_title))
        )
        lines = (
            alt.Chart(parts)
            .mark_line(interpolate="step-after", strokeWidth=1.6)
            .encode(
                x=x,
                y=alt.Y("probability:Q", scale=y_scale),
                color=alt.Color(
                    "component:N",
                    title="Logistic component",
                    legend=alt.Legend(orient="bottom", columns=1, labelLimit=0),
                ),
                tooltip=["component", "level:Q", alt.Tooltip("probability:Q", format=".4f")],
            )
        )
        chart = base + lines
    else:
        chart = (
            alt.Chart(whole)
            .mark_bar(color="#6c8ebf", width=1.5)
            .encode(
                x=x,
                y=alt.Y("probability:Q", scale=y_scale, title=y_title),
                tooltip=["level:Q", alt.Tooltip("probability:Q", format=".4f")],
            )
        )
    rule = alt.Chart(pd.DataFrame({"level": [true_level]})).mark_rule(color="#FF4B4B", strokeDash=[5, 3], strokeWidth=2)
    return (chart + rule.encode(x=x, tooltip=[alt.Tooltip("level:Q", title="true level")])).properties(height=220)


REAL_COLOR, FAKE_COLOR, MESH_COLOR = "#2ECC71", "#FF4B4B", "#9ad1ff"


def _gan_lab_figure(frame: dict, title: str, extent: float, show_mesh: bool, show_heat: bool):
    """The figure of one snapshot, and the artists that change from one snapshot to the next."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    # Outside pyplot: the page keeps this figure across reruns (GanLabFrames), and pyplot resets the canvas of a
    # figure it lets go of (a closed one, or any when "all" are closed), which would take its blitting with it.
    fig = Figure(figsize=(4.6, 4.6), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    _dark(fig, ax)
    moving: dict = {"heat": None, "rows": [], "cols": []}
    if show_heat:
        moving["heat"] = ax.imshow(
            frame["d_grid"], origin="lower", extent=(-extent, extent, -extent, extent),
            cmap="PuOr_r", vmin=0, vmax=1, interpolation="bilinear", alpha=0.85,
        )  # fmt: skip
        _colorbar(fig, ax, moving["heat"], "D(x): probability x is real")
    if show_mesh:
        mesh = frame["g_mesh"]
        for k in range(mesh.shape[0]):
            moving["rows"] += ax.plot(mesh[k, :, 0], mesh[k, :, 1], color=MESH_COLOR, lw=0.4, alpha=0.6, zorder=1)
            moving["cols"] += ax.plot(mesh[:, k, 0], mesh[:, k, 1], color=MESH_COLOR, lw=0.4, alpha=0.6, zorder=1)
    # The points above the grid (the generated ones on top), as gan_lab_frames draws them in this order.
    moving["real"] = ax.scatter(*frame["real"].T, s=5, color=REAL_COLOR, alpha=0.85, zorder=2)
    moving["fake"] = ax.scatter(*frame["fake"].T, s=5, color=FAKE_COLOR, alpha=0.85, zorder=3)
    ax.set_xlim(-extent, extent)
    ax.set_ylim(-extent, extent)
    ax.set_aspect("equal")
    ax.set_xlabel("x₁ (data units)")
    ax.set_ylabel("x₂ (data units)")
    moving["title"] = ax.set_title(title, color=FOREGROUND, pad=30)
    handles = [Line2D([], [], marker="o", ls="", ms=7, color=REAL_COLOR, label="real data")]
    handles.append(Line2D([], [], marker="o", ls="", ms=7, color=FAKE_COLOR, label="generated by G"))
    if show_mesh:
        handles.append(Line2D([], [], color=MESH_COLOR, lw=1.5, label="G's noise grid"))
    ax.legend(
        handles=handles, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=len(handles), frameon=False,
        labelcolor=FOREGROUND, handletextpad=0.3, columnspacing=1.0, borderaxespad=0.2,
    )  # fmt: skip
    return fig, ax, moving


def gan_lab_frame(frame: dict, title: str, extent: float = 4.0, show_mesh: bool = True, show_heat: bool = True):
    """One snapshot of a 2-D GAN: D(x) as a heat map, G's mapped noise grid, real and generated points. The
    legend sits above the plot, on the page's background, where the heat map cannot wash it out."""
    return _gan_lab_figure(frame, title, extent, show_mesh, show_heat)[0]


class GanLabFrames:
    """The snapshots of a run as JPEG bytes for showing ``width`` px wide, each drawn the first time it is asked
    for (``frames[i]``), so a first visit draws the one snapshot it shows, not all of them.

    The axes, labels, colour bar and legend are the same in every frame: they are laid out and drawn once and kept
    as a background; each frame redraws only what moves on it (about 20x faster than a figure per frame, which
    spends its time laying out text). One figure serves every session: drawing holds a lock."""

    def __init__(
        self, frame_at, titles: list[str], width: int, extent: float = 4.0, show_mesh: bool = True,
        show_heat: bool = True,
    ) -> None:  # fmt: skip
        import threading

        self._frame_at, self._titles = frame_at, list(titles)
        self._pictures: list[bytes | None] = [None] * len(self._titles)
        self._lock = threading.Lock()
        fig, ax, moving = _gan_lab_figure(frame_at(0), self._titles[0], extent, show_mesh, show_heat)
        _fit_text(fig, width, FONT_PX, tight=True)
        fig.set_dpi(HIDPI * width / fig.get_figwidth())
        self._artists = [
            a for a in (moving["heat"], *moving["rows"], *moving["cols"], moving["real"], moving["fake"]) if a
        ]
        for a in (*self._artists, moving["title"]):
            a.set_animated(True)
        fig.canvas.draw()
        self._background = fig.canvas.copy_from_bbox(fig.bbox)
        self._fig, self._ax, self._moving = fig, ax, moving

    def __len__(self) -> int:
        return len(self._pictures)

    def __getitem__(self, i: int) -> bytes:
        picture = self._pictures[i]
        if picture is None:
            with self._lock:
                picture = self._pictures[i] = self._pictures[i] or self._draw(i)
        return picture

    def _draw(self, i: int) -> bytes:
        frame, moving, fig = self._frame_at(i), self._moving, self._fig
        if moving["heat"] is not None:
            moving["heat"].set_data(frame["d_grid"])
        mesh = frame["g_mesh"]
        for k, (row, col) in enumerate(zip(moving["rows"], moving["cols"], strict=True)):
            row.set_data(mesh[k, :, 0], mesh[k, :, 1])
            col.set_data(mesh[:, k, 0], mesh[:, k, 1])
        moving["fake"].set_offsets(frame["fake"])
        moving["title"].set_text(self._titles[i])
        fig.canvas.restore_region(self._background)
        for a in self._artists:
            self._ax.draw_artist(a)
        fig.draw_artist(moving["title"])
        w, h = fig.canvas.get_width_height(physical=True)
        picture = Image.frombuffer("RGBA", (w, h), fig.canvas.buffer_rgba()).convert("RGB")
        buf = io.BytesIO()
        # JPEG: a tenth of PNG's encoding time and half its size for this smooth heat map; at quality 90 its
        # ringing at the edges of text is slight.
        picture.save(buf, format="JPEG", quality=90)
        return buf.getvalue()


def gan_lab_frames(
    frames: list[dict], titles: list[str], width: int, extent: float = 4.0, show_mesh: bool = True,
    show_heat: bool = True,
) -> list[bytes]:  # fmt: skip
    """Every snapshot of a run as JPEG bytes for showing ``width`` px wide (:class:`GanLabFrames`, all drawn)."""
    drawer = GanLabFrames(frames.__getitem__, titles, width, extent, show_mesh, show_heat)
    return [drawer[i] for i in range(len(drawer))]
