"""Figures drawn straight to pixels: a map (an array through a colour map, or an image), with its title, axes,
colour bar or legend, lines and dots, laid out in pixels and drawn with PIL. A matplotlib figure of the same spends
~60 ms laying out and encoding; this takes a few, and the app needs no matplotlib. The theme, font and text sizes are
the app's (:mod:`app.plots`), and figures are drawn at the size they are shown at (:data:`app.plots.HIDPI`)."""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import streamlit as st
from PIL import Image, ImageDraw, ImageFont

from app.plots import BACKGROUND, FONT_PX, FOREGROUND, HIDPI, MIN_FONT_PX

BAR_PX, GAP_PX, MARGIN_PX, TICK_PX = 12, 8, 4, 4
HERE = Path(__file__).resolve().parent
FONT_FILE = HERE / "fonts" / "DejaVuSans.ttf"  # DejaVu Sans (its license beside it), as matplotlib draws text
COLORMAPS_FILE = HERE / "colormaps.npz"  # matplotlib's maps as byte tables (scripts/colormaps.py)


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


@dataclass(frozen=True)
class Lines:
    """Polylines (k, n, 2) in data coordinates, drawn over the map and under the dots."""

    paths: np.ndarray
    color: str
    alpha: float = 0.6
    width_px: int = 1


@dataclass(frozen=True)
class Key:
    """One legend entry: a dot or a short line of a colour, and what it stands for."""

    label: str
    color: str
    mark: str = "dot"  # or "line"


@cache
def _font(px: float) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(FONT_FILE), round(px * HIDPI))


@cache
def _colormaps() -> dict[str, np.ndarray]:
    with np.load(COLORMAPS_FILE) as f:
        return {name: f[name] for name in f.files}


def colormap(cmap: str) -> np.ndarray:
    """A colour map as a (256, 3) table of bytes (gray, magma, viridis, PuOr_r), or tab10's (10, 3) colours."""
    return _colormaps()[cmap]


def colorize(values: np.ndarray, cmap: str, vmin: float = 0.0, vmax: float = 1.0) -> np.ndarray:
    """Values through a colour map: (...) -> (..., 3) bytes, [vmin, vmax] onto the map's ends (NaN as vmin)."""
    span = max(vmax - vmin, 1e-12)
    index = np.clip(np.rint((np.nan_to_num(values, nan=vmin) - vmin) / span * 255), 0, 255).astype(np.uint8)
    return colormap(cmap)[index]


def _rgb(color: str) -> tuple[int, int, int]:
    return tuple(int(color.lstrip("#")[i : i + 2], 16) for i in (0, 2, 4))


def _ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    """At most n + 1 round ticks within [lo, hi]: a step of 1, 2, 2.5 or 5 times a power of ten, the smallest
    that needs at most n steps (matplotlib's default locator's choice)."""
    if not hi > lo:
        return [float(lo)]
    raw = (hi - lo) / n
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw * (1 - 1e-9))
    eps = 1e-9 * max(abs(lo), abs(hi), 1)
    first = math.ceil((lo - eps) / step)
    ticks = [k * step for k in range(first, math.floor((hi + eps) / step) + 1)]
    return [0.0 if abs(t) < eps else round(t, 12) for t in ticks]


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


def _labels_px(ticks: list[float]) -> float:
    """The widest of these ticks' labels, in page pixels."""
    return max((_text_size(_label(t), _font(MIN_FONT_PX))[0] for t in ticks), default=0) / HIDPI


def _left_px(axes: Axes | None) -> int:
    """What a figure needs left of its map: the y axis's label and tick labels, or a margin."""
    if axes is None:
        return MARGIN_PX
    return round(MARGIN_PX + FONT_PX * 1.3 + TICK_PX + 2 + _labels_px(_ticks(-axes.extent, axes.extent)) + 2)


def _right_px(bar_label: str | None, vmin: float, vmax: float, legend: tuple = (), legend_title: str = "") -> int:
    """What a figure needs right of its map: the colour bar with its ticks and label, or a legend, or nothing."""
    if bar_label is not None:
        return GAP_PX + BAR_PX + TICK_PX + 2 + round(_labels_px(_ticks(vmin, vmax))) + 4 + round(FONT_PX * 1.3)
    if legend:
        texts = [legend_title] + [k.label for k in legend]
        return GAP_PX * 2 + 18 + round(max(_text_size(t, _font(FONT_PX))[0] for t in texts) / HIDPI)
    return 0


def map_px_for(width: int, axes: Axes | None, bar_label: str | None, vmin: float = 0.0, vmax: float = 1.0) -> int:
    """The map width that makes a figure with these axes and colour bar (and no legend beside it) ``width`` wide."""
    return width - _left_px(axes) - _right_px(bar_label, vmin, vmax) - MARGIN_PX


def heatmap(
    values: np.ndarray | None,
    vmin: float,
    vmax: float,
    cmap: str,
    title: str,
    bar_label: str | None,
    map_px: int,
    axes: Axes | None = None,
    dots: tuple[Dots, ...] = (),
    title_lines: int | None = None,
    *,
    lines: tuple[Lines, ...] = (),
    legend: tuple[Key, ...] = (),
    legend_title: str = "",
    legend_above: bool = False,
    smooth: bool = False,
    fmt: str = "PNG",
) -> bytes:
    """``values`` (rows, cols) as a map ``map_px`` wide, picture bytes (:func:`shown_width` wide on the page).

    The title (its lines as given) sits above; ``title_lines`` reserves room for that many, so maps with shorter
    titles line up with longer ones side by side. With ``axes``, the map has data ticks and labels and row 0 is
    drawn at the bottom; without, row 0 is at the top, as an image's. Cells are upscaled by nearest neighbour
    (``smooth``: bilinear); ``values`` None leaves the map blank (square) under its lines and dots. The colour bar
    on the right spans [vmin, vmax] in ``bar_label``'s units (None: no bar). A legend of ``legend`` keys goes on the
    right, or in one row above the map (``legend_above``). ``fmt``: PNG, or JPEG for a smooth picture."""
    rows, cols = np.shape(values) if values is not None else (1, 1)
    map_w, map_h = map_px, round(map_px * rows / cols)
    big, small = _font(FONT_PX), _font(MIN_FONT_PX)
    line_px = FONT_PX * 1.3
    title_rows = title.split("\n")
    keys_above = bool(legend) and legend_above
    title_h = round(line_px * (max(len(title_rows), title_lines or 0) + keys_above)) + 2 * MARGIN_PX
    if bar_label is not None:
        bar_ticks = _ticks(vmin, vmax)
        bar_labels_w = _labels_px(bar_ticks)
    right = _right_px(bar_label, vmin, vmax, () if legend_above else legend, legend_title)
    if axes is not None:
        data_ticks = _ticks(-axes.extent, axes.extent)
        bottom = TICK_PX + 2 + MIN_FONT_PX * 1.3 + 2 + line_px + MARGIN_PX
    else:  # room below for half the colour bar's lowest label
        bottom = MARGIN_PX + MIN_FONT_PX * 0.6
    left, bottom = _left_px(axes), round(bottom)
    width = left + map_w + right + MARGIN_PX
    height = title_h + map_h + bottom
    s = HIDPI
    canvas = Image.new("RGB", (width * s, height * s), BACKGROUND)
    draw = ImageDraw.Draw(canvas)

    # the title, left-aligned over the map
    for i, line in enumerate(title_rows):
        draw.text((left * s, (MARGIN_PX + i * line_px) * s), line, font=big, fill=FOREGROUND, anchor="lt")

    # the map: each value through the colour map, cells upscaled by nearest neighbour (or bilinear)
    if values is not None:
        colored = colorize(np.asarray(values, np.float64), cmap, vmin, vmax)
        if axes is not None:
            colored = colored[::-1]  # row 0 (y = -extent) at the bottom
        resample = Image.Resampling.BILINEAR if smooth else Image.Resampling.NEAREST
        picture = Image.fromarray(colored).resize((map_w * s, map_h * s), resample)
    else:
        picture = Image.new("RGB", (map_w * s, map_h * s), BACKGROUND)
    x0, y0 = left * s, title_h * s
    if dots or lines:
        e = axes.extent if axes is not None else 1.0

        def to_px(xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            xy = np.asarray(xy, np.float64)
            return (xy[..., 0] + e) / (2 * e) * map_w * s, (e - xy[..., 1]) / (2 * e) * map_h * s

        picture = picture.convert("RGBA")
        layer = Image.new("RGBA", picture.size, (0, 0, 0, 0))
        pen = ImageDraw.Draw(layer)
        for group in lines:
            fill = (*_rgb(group.color), round(255 * group.alpha))
            px, py = to_px(group.paths)
            for u, v in zip(px, py, strict=True):
                pen.line(list(zip(u.tolist(), v.tolist(), strict=True)), fill=fill, width=group.width_px * s)
        for d in dots:
            fill = (*_rgb(d.color), round(255 * d.alpha))
            r = d.radius_px * s
            px, py = to_px(d.xy)
            for u, v in zip(px.tolist(), py.tolist(), strict=True):
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

    if bar_label is not None:  # the colour bar, with its ticks in the map's units
        span = max(vmax - vmin, 1e-12)
        bx = x0 + (map_w + GAP_PX) * s
        ramp = colormap(cmap)[np.linspace(255, 0, map_h * s).round().astype(np.uint8)]
        bar = Image.fromarray(np.repeat(ramp[:, None], BAR_PX * s, axis=1))
        canvas.paste(bar, (bx, y0))
        draw.rectangle((bx - 1, y0 - 1, bx + BAR_PX * s, y0 + map_h * s), outline=FOREGROUND, width=1)
        for t in bar_ticks:
            v = y0 + (vmax - t) / span * map_h * s
            draw.line((bx + BAR_PX * s, v, bx + (BAR_PX + TICK_PX) * s, v), fill=FOREGROUND, width=s // 2 or 1)
            draw.text((bx + (BAR_PX + TICK_PX + 2) * s, v), _label(t), font=small, fill=FOREGROUND, anchor="lm")
        label_x = bx + (BAR_PX + TICK_PX + 2 + bar_labels_w + 4 + FONT_PX * 0.65) * s
        _rotated(canvas, bar_label, big, (label_x, y0 + map_h * s / 2))

    if legend:  # in one row above the map, or a column on its right, centred on it
        if legend_above:
            x, y = float(x0), (title_h - MARGIN_PX - line_px / 2) * s
        else:
            x = x0 + (map_w + 2 * GAP_PX) * s
            y = y0 + (map_h - line_px * (len(legend) + bool(legend_title))) * s / 2 + line_px * s / 2
            if legend_title:
                draw.text((x, y), legend_title, font=big, fill=FOREGROUND, anchor="lm")
                y += line_px * s
        for key in legend:
            if key.mark == "line":
                draw.line((x, y, x + 14 * s, y), fill=key.color, width=2 * s)
            else:
                draw.ellipse((x + 3 * s, y - 4 * s, x + 11 * s, y + 4 * s), fill=key.color)
            draw.text((x + 18 * s, y), key.label, font=big, fill=FOREGROUND, anchor="lm")
            if legend_above:
                x += (18 + _text_size(key.label, big)[0] / s + 14) * s
            else:
                y += line_px * s

    buf = io.BytesIO()
    if fmt == "JPEG":  # a tenth of PNG's encoding time and half its size for a smooth heat map; slight ringing
        canvas.save(buf, format="JPEG", quality=90)
    else:
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
