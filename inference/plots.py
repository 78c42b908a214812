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
        ax.scatter(mu[sel, 0], mu[sel, 1], s=12, color=colors(digit), label=str(digit), edgecolors="white", linewidths=0.3)
    ax.set_xlim(extent[:2])
    ax.set_ylim(extent[2:])
    ax.set_xlabel("z₁ (latent units: standard deviations of the N(0, 1) prior)")
    ax.set_ylabel("z₂ (latent units)")
    legend = ax.legend(title="Test digit", loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False, labelcolor=FOREGROUND)
    legend.get_title().set_color(FOREGROUND)
    outside = int((~inside).sum())
    if outside:
        ax.set_title(f"{outside} of {len(mu)} test codes fall outside the grid", fontsize=9, color=FOREGROUND)
    fig.tight_layout()
    return fig
