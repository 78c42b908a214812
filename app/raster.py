"""Heat maps drawn straight to pixels: an array through a colour map, with its title, axes, colour bar and dots,
laid out in pixels and drawn with PIL. A matplotlib figure of the same spends ~60 ms laying out and encoding;
this takes a few. Same theme, font and text sizes as the figures of :mod:`app.plots`, and drawn, as they are, at
the size they are shown at (:data:`app.plots.HIDPI`)."""

from __future__ import annotations

import io
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import streamlit as st
from PIL import Image, ImageDraw, ImageFont

from app.plots import BACKGROUND, FONT_PX, FOREGROUND, HIDPI, MIN_FONT_PX

BAR_PX, GAP_PX, MARGIN_PX, TICK_PX = 12, 8, 4, 4


@dataclass(frozen=True)
class Axes:
    """Data coordinates for a map: it covers [-extent, extent]^2, row 0 at the bottom (y up)."""

    extent: float
    xlabel: str
    ylabel: str


@dataclass(frozen=True)
class Dots:
    """Points (n, 2) in data coordinates, drawn over the map."""

    xy: np.ndarray
    color: str
    alpha: float = 0.6
    radius_px: float = 1.2


@cache
def _font(px: float) -> ImageFont.FreeTypeFont:
    import matplotlib  # its DejaVu Sans, so these maps read as the app's other figures

    return ImageFont.truetype(str(Path(matplotlib.get_data_path()) / "fonts/ttf/DejaVuSans.ttf"), round(px * HIDPI))


@cache
def _lut(cmap: str) -> np.ndarray:
    import matplotlib

    return (matplotlib.colormaps[cmap](np.linspace(0, 1, 256))[:, :3] * 255).round().astype(np.uint8)


def _ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    from matplotlib.ticker import MaxNLocator

    eps = 1e-9 * max(abs(lo), abs(hi), 1)
    return [float(t) for t in MaxNLocator(nbins=n).tick_values(lo, hi) if lo - eps <= t <= hi + eps]


def _label(value: float) -> str:
    return f"{value:g}".replace("-", "−")  # a minus sign, as matplotlib draws it


def _text_size(text: str, font) -> tuple[int, int]:
    left, top, right, bottom = font.getbbox(text)
    return right - left, bottom - top


def _rotated(canvas: Image.Image, text: str, font, center: tuple[float, float]) -> None:
    """Text turned a quarter left (read bottom to top), centred at ``center`` (canvas pixels)."""
    w, h = _text_size(text, font)
    strip = Image.new("RGBA", (w + 4, h + 8), (0, 0, 0, 0))
    ImageDraw.Draw(strip).text((2, 2), text, font=font, fill=FOREGROUND, anchor="lt")
    strip = strip.rotate(90, expand=True)
    canvas.paste(strip, (round(center[0] - strip.width / 2), round(center[1] - strip.height / 2)), strip)


def heatmap(
    values: np.ndarray,
    vmin: float,
    vmax: float,
    cmap: str,
    title: str,
    bar_label: str,
    map_px: int,
    axes: Axes | None = None,
    dots: tuple[Dots, ...] = (),
    title_lines: int | None = None,
) -> bytes:
    """``values`` (rows, cols) as a heat map ``map_px`` wide, PNG bytes (:func:`shown_width` wide on the page).

    The title (its lines as given) sits above; ``title_lines`` reserves room for that many, so maps with shorter
    titles line up with longer ones side by side. With ``axes``, the map has data ticks and labels and row 0 is
    drawn at the bottom; without, row 0 is at the top, as an image's. The colour bar on the right spans
    [vmin, vmax] in ``bar_label``'s units."""
    values = np.asarray(values, np.float64)
    rows, cols = values.shape
    map_w, map_h = map_px, round(map_px * rows / cols)
    big, small = _font(FONT_PX), _font(MIN_FONT_PX)
    line_px = FONT_PX * 1.3
    lines = title.split("\n")
    title_h = round(line_px * max(len(lines), title_lines or 0)) + 2 * MARGIN_PX
    bar_ticks = _ticks(vmin, vmax)
    bar_labels_w = max((_text_size(_label(t), small)[0] for t in bar_ticks), default=0) / HIDPI
    if axes is not None:
        data_ticks = _ticks(-axes.extent, axes.extent)
        y_labels_w = max(_text_size(_label(t), small)[0] for t in data_ticks) / HIDPI
        left = MARGIN_PX + FONT_PX * 1.3 + TICK_PX + 2 + y_labels_w + 2
        bottom = TICK_PX + 2 + MIN_FONT_PX * 1.3 + 2 + FONT_PX * 1.3 + MARGIN_PX
    else:  # room below for half the colour bar's lowest label
        left, bottom = MARGIN_PX, MARGIN_PX + MIN_FONT_PX * 0.6
    left = round(left)
    bottom = round(bottom)
    width = left + map_w + GAP_PX + BAR_PX + TICK_PX + 2 + round(bar_labels_w) + 4 + round(FONT_PX * 1.3) + MARGIN_PX
    height = title_h + map_h + bottom
    s = HIDPI
    canvas = Image.new("RGB", (width * s, height * s), BACKGROUND)
    draw = ImageDraw.Draw(canvas)

    # the title, left-aligned over the map
    for i, line in enumerate(lines):
        draw.text((left * s, (MARGIN_PX + i * line_px) * s), line, font=big, fill=FOREGROUND, anchor="lt")

    # the map: each value through the colour map, cells upscaled by nearest neighbour
    span = max(vmax - vmin, 1e-12)
    index = np.clip(np.rint((np.nan_to_num(values, nan=vmin) - vmin) / span * 255), 0, 255).astype(np.uint8)
    if axes is not None:
        index = index[::-1]  # row 0 (y = -extent) at the bottom
    picture = Image.fromarray(_lut(cmap)[index]).resize((map_w * s, map_h * s), Image.Resampling.NEAREST)
    x0, y0 = left * s, title_h * s
    if dots:
        picture = picture.convert("RGBA")
        layer = Image.new("RGBA", picture.size, (0, 0, 0, 0))
        pen = ImageDraw.Draw(layer)
        for d in dots:
            rgb = tuple(int(d.color.lstrip("#")[i : i + 2], 16) for i in (0, 2, 4))
            fill = (*rgb, round(255 * d.alpha))
            r = d.radius_px * s
            e = axes.extent if axes is not None else 1.0
            px = (np.asarray(d.xy[:, 0]) + e) / (2 * e) * map_w * s
            py = (e - np.asarray(d.xy[:, 1])) / (2 * e) * map_h * s
            for u, v in zip(px, py, strict=True):
                pen.ellipse((u - r, v - r, u + r, v + r), fill=fill)
        picture = Image.alpha_composite(picture, layer).convert("RGB")
    canvas.paste(picture, (x0, y0))
    draw.rectangle((x0 - 1, y0 - 1, x0 + map_w * s, y0 + map_h * s), outline=FOREGROUND, width=1)

    if axes is not None:  # ticks, their labels and the axis labels, in data units
        e = axes.extent
        for t in data_ticks:
            u = x0 + (t + e) / (2 * e) * map_w * s
            v = y0 + (e - t) / (2 * e) * map_h * s
            bottom_edge, left_edge = y0 + map_h * s, x0
            draw.line((u, bottom_edge, u, bottom_edge + TICK_PX * s), fill=FOREGROUND, width=s // 2 or 1)
            draw.text((u, bottom_edge + (TICK_PX + 2) * s), _label(t), font=small, fill=FOREGROUND, anchor="mt")
            draw.line((left_edge - TICK_PX * s, v, left_edge, v), fill=FOREGROUND, width=s // 2 or 1)
            draw.text((left_edge - (TICK_PX + 2) * s, v), _label(t), font=small, fill=FOREGROUND, anchor="rm")
        label_y = y0 + map_h * s + (TICK_PX + 2 + MIN_FONT_PX * 1.3 + 2) * s
        draw.text((x0 + map_w * s / 2, label_y), axes.xlabel, font=big, fill=FOREGROUND, anchor="mt")
        _rotated(canvas, axes.ylabel, big, ((MARGIN_PX + FONT_PX * 0.65) * s, y0 + map_h * s / 2))

    # the colour bar, with its ticks in the map's units
    bx = x0 + (map_w + GAP_PX) * s
    ramp = _lut(cmap)[np.linspace(255, 0, map_h * s).round().astype(np.uint8)]
    bar = Image.fromarray(np.repeat(ramp[:, None], BAR_PX * s, axis=1))
    canvas.paste(bar, (bx, y0))
    draw.rectangle((bx - 1, y0 - 1, bx + BAR_PX * s, y0 + map_h * s), outline=FOREGROUND, width=1)
    for t in bar_ticks:
        v = y0 + (vmax - t) / span * map_h * s
        draw.line((bx + BAR_PX * s, v, bx + (BAR_PX + TICK_PX) * s, v), fill=FOREGROUND, width=s // 2 or 1)
        draw.text((bx + (BAR_PX + TICK_PX + 2) * s, v), _label(t), font=small, fill=FOREGROUND, anchor="lm")
    label_x = bx + (BAR_PX + TICK_PX + 2 + bar_labels_w + 4 + FONT_PX * 0.65) * s
    _rotated(canvas, bar_label, big, (label_x, y0 + map_h * s / 2))

    buf = io.BytesIO()
    canvas.save(buf, format="PNG", compress_level=1)  # the fast level: these encode in a millisecond or two
    return buf.getvalue()


def shown_width(png: bytes) -> int:
    """The width, in page pixels, to show a picture drawn here at."""
    return Image.open(io.BytesIO(png)).width // HIDPI


DATA_COLOR, SAMPLE_COLOR = "#FFFFFF", "#FF4B4B"


def density_map(m, title: str, points: np.ndarray | None = None, samples: np.ndarray | None = None) -> bytes:
    """A 2-D density map (:class:`inference.density_maps.DensityMap`) as the density pages show it: log p(x) in
    nats over its FLOOR-nat range, data as white dots, the model's samples as red ones, axes in data units."""
    from inference.density_maps import FLOOR

    dots = []
    if points is not None:
        dots.append(Dots(np.asarray(points), DATA_COLOR, 0.35))
    if samples is not None:
        dots.append(Dots(np.asarray(samples), SAMPLE_COLOR, 0.6))
    return heatmap(
        m.log_p(), m.top - FLOOR, m.top, "viridis", title, "log p(x) (nats)", 230,
        axes=Axes(m.extent, "x₁ (data units)", "x₂ (data units)"), dots=tuple(dots), title_lines=2,
    )  # fmt: skip


def show(png: bytes, where=None, caption: str | None = None) -> None:
    """A picture drawn here, on the page at the size it was drawn for."""
    (where or st).image(png, width=shown_width(png), caption=caption)
