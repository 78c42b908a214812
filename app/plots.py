"""Figures that are easier to draw with matplotlib than with Streamlit's charts."""

from __future__ import annotations

import numpy as np

from inference import images as img

# The app's dark theme (.streamlit/config.toml), so figures sit in the page like its own elements.
BACKGROUND = "#10131A"
FOREGROUND = "#E8EAF0"


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


def latent_manifold(model, mu: np.ndarray, labels: np.ndarray, span: float = 3.0, cells: int = 20):
    """The decoded latent grid with encoded test means scattered over it, colored by digit."""
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
    for digit in range(10):
        sel = inside & (labels == digit)
        ax.scatter(
            mu[sel, 0], mu[sel, 1], s=12, color=colors(digit), label=str(digit), edgecolors="white", linewidths=0.3
        )
    ax.set_xlim(extent[:2])
    ax.set_ylim(extent[2:])
    ax.set_xlabel("z₁ (latent units: standard deviations of the N(0, 1) prior)")
    ax.set_ylabel("z₂ (latent units)")
    legend = ax.legend(
        title="Test digit", loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False, labelcolor=FOREGROUND
    )
    legend.get_title().set_color(FOREGROUND)
    outside = int((~inside).sum())
    if outside:
        ax.set_title(f"{outside} of {len(mu)} test codes fall outside the grid", fontsize=9, color=FOREGROUND)
    fig.tight_layout()
    return fig


def nll_heatmap(nll_map: np.ndarray, title: str, vmax: float | None = None):
    """Per-pixel -log p(x_i | x_<i) as a heat map, with a colour bar in nats."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(3.4, 3.0), dpi=110)
    _dark(fig, ax)
    im = ax.imshow(nll_map, cmap="magma", interpolation="nearest", vmin=0, vmax=vmax)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(title, color=FOREGROUND, fontsize=9)
    _colorbar(fig, ax, im, "nats per pixel")
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
            color=alt.Color("model:N", title="Model"),
        )
    )
    lines = (
        alt.Chart(rules)
        .mark_rule(strokeWidth=3, strokeDash=[6, 3])
        .encode(x="nll:Q", color=alt.Color("model:N"), tooltip=["model", alt.Tooltip("nll:Q", format=".1f")])
    )
    return (bars + lines).properties(height=260)


def gan_lab_frame(frame: dict, title: str, extent: float = 4.0, show_mesh: bool = True, show_heat: bool = True):
    """One snapshot of a 2-D GAN: D(x) as a heat map, G's mapped noise grid, real and generated points."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4.6, 4.2), dpi=100)
    _dark(fig, ax)
    if show_heat:
        im = ax.imshow(
            frame["d_grid"], origin="lower", extent=(-extent, extent, -extent, extent),
            cmap="PuOr_r", vmin=0, vmax=1, interpolation="bilinear", alpha=0.85,
        )  # fmt: skip
        _colorbar(fig, ax, im, "D(x): probability that x is real")
    if show_mesh:
        mesh = frame["g_mesh"]
        for k in range(mesh.shape[0]):
            ax.plot(mesh[k, :, 0], mesh[k, :, 1], color="#9ad1ff", lw=0.4, alpha=0.6)
            ax.plot(mesh[:, k, 0], mesh[:, k, 1], color="#9ad1ff", lw=0.4, alpha=0.6)
    ax.scatter(frame["real"][:, 0], frame["real"][:, 1], s=4, color="#2ECC71", label="real", alpha=0.8)
    ax.scatter(frame["fake"][:, 0], frame["fake"][:, 1], s=4, color="#FF4B4B", label="generated", alpha=0.8)
    ax.set_xlim(-extent, extent)
    ax.set_ylim(-extent, extent)
    ax.set_aspect("equal")
    ax.set_xlabel("x₁ (data units)")
    ax.set_ylabel("x₂ (data units)")
    ax.set_title(title, color=FOREGROUND, fontsize=9)
    legend = ax.legend(loc="upper right", fontsize=7, frameon=False, labelcolor=FOREGROUND, markerscale=3)
    legend.set_zorder(5)
    fig.tight_layout()
    return fig


def density_map(ticks: np.ndarray, log_p: np.ndarray, title: str, points=None, samples=None, floor: float = 10.0):
    """log p(x) on a grid as a heat map (clipped to [max - floor, max]), with data and model samples."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(3.6, 3.3), dpi=100)
    _dark(fig, ax)
    finite = log_p[np.isfinite(log_p)]
    top = float(finite.max()) if finite.size else 0.0
    shown = np.clip(np.nan_to_num(log_p, nan=top - floor, neginf=top - floor), top - floor, top)
    e = float(ticks[-1])
    im = ax.imshow(shown, origin="lower", extent=(-e, e, -e, e), cmap="viridis", interpolation="nearest")
    if points is not None:
        ax.scatter(points[:, 0], points[:, 1], s=1.5, color="white", alpha=0.35, label="data")
    if samples is not None:
        ax.scatter(samples[:, 0], samples[:, 1], s=1.5, color="#FF4B4B", alpha=0.6, label="model samples")
    ax.set_xlim(-e, e)
    ax.set_ylim(-e, e)
    ax.set_aspect("equal")
    ax.set_xlabel("x₁", fontsize=8)
    ax.set_ylabel("x₂", fontsize=8)
    ax.tick_params(labelsize=7)
    ax.set_title(title, color=FOREGROUND, fontsize=9)
    _colorbar(fig, ax, im, "log p(x) (nats)")
    fig.tight_layout()
    return fig
