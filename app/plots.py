"""The app's figures: its theme (shared with app.raster), the Altair charts of distributions, and two pictures
drawn with app.raster: the 2-d latent manifold and the GAN lab's snapshots."""

from __future__ import annotations

import numpy as np

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


def manifold_grid(model, span: float = 3.0, cells: int = 20) -> np.ndarray:
    """Decode a cells x cells grid of 2-d codes over [-span, span]^2: one tiled image, z2 up."""
    ticks = np.linspace(-span, span, cells, dtype=np.float32)
    z1, z2 = np.meshgrid(ticks, ticks[::-1])  # row 0 is the top, where z2 is largest
    codes = np.stack([z1.ravel(), z2.ravel()], axis=1)
    return img.tile(model.decode(codes), cols=cells, pad=0)


def latent_manifold(
    model, mu: np.ndarray, labels: np.ndarray, span: float = 3.0, cells: int = 20, dots: bool = True
) -> bytes:
    """The decoded latent grid (each digit at its own 28 px) with encoded test means scattered over it (``dots``),
    coloured by digit: small and translucent, so the decoded digits under them stay readable where the codes crowd
    (the map's centre). PNG bytes (app.raster)."""
    from app import raster

    grid = manifold_grid(model, span, cells)
    half_cell = span / (cells - 1)
    extent = span + half_cell  # the grid's cells are centred on the codes decoded
    inside = (np.abs(mu) <= extent).all(1)
    colors = [f"#{r:02x}{g:02x}{b:02x}" for r, g, b in raster.colormap("tab10").tolist()]
    shown = [raster.Dots(mu[inside & (labels == d)], colors[d], 0.6, 1.3) for d in range(10)] if dots else []
    outside = int((~inside).sum())
    title = f"{outside} of {len(mu)} test codes fall outside the grid" if dots and outside else ""
    axes = raster.Axes(extent, "z₁ (latent units: standard deviations of the N(0, 1) prior)", "z₂ (latent units)")
    keys = tuple(raster.Key(str(d), colors[d]) for d in range(10)) if dots else ()
    return raster.heatmap(
        grid[::-1], 0.0, 1.0, "gray", title, None, grid.shape[1], axes=axes, dots=tuple(shown), legend=keys,
        legend_title="Test digit",
    )  # fmt: skip


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


def gan_lab_frame(
    frame: dict, title: str, width: int, extent: float = 4.0, show_mesh: bool = True, show_heat: bool = True
) -> bytes:
    """One snapshot of a 2-D GAN as JPEG bytes ``width`` px wide: D(x) as a heat map, G's mapped noise grid, real
    and generated points. The legend sits above the plot, on the page's background, where the heat map cannot wash
    it out."""
    from app import raster

    mesh = frame["g_mesh"]
    keys = [raster.Key("real data", REAL_COLOR), raster.Key("generated by G", FAKE_COLOR)]
    if show_mesh:
        keys.append(raster.Key("G's noise grid", MESH_COLOR, "line"))
    bar = "D(x): probability x is real" if show_heat else None
    axes = raster.Axes(extent, "x₁ (data units)", "x₂ (data units)")
    return raster.heatmap(
        frame["d_grid"] if show_heat else None, 0.0, 1.0, "PuOr_r", title, bar, raster.map_px_for(width, axes, bar),
        axes=axes,
        lines=(raster.Lines(np.concatenate([mesh, mesh.transpose(1, 0, 2)]), MESH_COLOR, 0.6),) if show_mesh else (),
        dots=(raster.Dots(frame["real"], REAL_COLOR, 0.85, 1.3), raster.Dots(frame["fake"], FAKE_COLOR, 0.85, 1.3)),
        legend=tuple(keys), legend_above=True, smooth=True, fmt="JPEG",
    )  # fmt: skip


class GanLabFrames:
    """The snapshots of a run as JPEG bytes for showing ``width`` px wide, each drawn the first time it is asked
    for (``frames[i]``, a few ms), so a first visit draws the one snapshot it shows, not all of them. One object
    serves every session: drawing holds a lock."""

    def __init__(
        self, frame_at, titles: list[str], width: int, extent: float = 4.0, show_mesh: bool = True,
        show_heat: bool = True,
    ) -> None:  # fmt: skip
        import threading

        titles = list(titles)
        self._draw = lambda i: gan_lab_frame(frame_at(i), titles[i], width, extent, show_mesh, show_heat)
        self._pictures: list[bytes | None] = [None] * len(titles)
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._pictures)

    def __getitem__(self, i: int) -> bytes:
        picture = self._pictures[i]
        if picture is None:
            with self._lock:
                picture = self._pictures[i] = self._pictures[i] or self._draw(i)
        return picture
