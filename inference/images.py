"""Image pre- and post-processing: uploads and drawings into MNIST's format, grids for display.

MNIST digits are white on black, 28 x 28, with the digit's bounding box scaled to fit a
20 x 20 box (keeping its aspect ratio) and the box placed so that the digit's center of
mass is at the image center (LeCun et al.). :func:`preprocess` does the same to any
grayscale picture, so an upload or a drawing reaches the models the way MNIST did: it first
takes out the paper's uneven lighting and separates ink from paper with Otsu's threshold, and
says when what it found does not look like a digit (blank paper, a picture mostly of ink).
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageFilter, UnidentifiedImageError

MAX_UPLOAD_BYTES = 5_000_000  # 5 MB as the browser's file chip counts them (10^6 bytes), so the two agree
MAX_PIXELS = 16_000_000  # about 4000 x 4000; a decompression bomb is refused before it is decoded
MIN_SIDE = 8
DISPLAY_SCALE = 8  # 28 px digits are shown as 224 px, upscaled by nearest neighbour


class ImageInputError(ValueError):
    """An input image that cannot be turned into a digit; the message is shown to the user."""


def load_upload(data: bytes, name: str = "upload") -> np.ndarray:
    """Decode uploaded bytes into a grayscale float image in [0, 1], white ink on black.

    Raises ImageInputError with a message fit for the page for anything that is not a
    usable image: empty or truncated files, non-images, decompression bombs, tiny images.
    """
    if not data:
        raise ImageInputError(f"{name} is empty (0 bytes).")
    if len(data) > MAX_UPLOAD_BYTES:
        raise ImageInputError(f"{name} is {len(data) / 1e6:.1f} MB; the limit is {MAX_UPLOAD_BYTES / 1e6:.0f} MB.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
            width, height = img.size  # read from the header, before any pixel is decoded
            if width * height > MAX_PIXELS:
                raise ImageInputError(
                    f"{name} is {width:,} x {height:,} pixels; the limit is {MAX_PIXELS / 1e6:.0f} megapixels. "
                    "A digit needs far fewer: try a smaller image."
                )
            if min(width, height) < MIN_SIDE:
                raise ImageInputError(
                    f"{name} is {width} x {height} pixels; a digit needs at least {MIN_SIDE} x {MIN_SIDE}."
                )
            img.seek(0)  # first frame of an animation
            img.load()
            gray = to_grayscale(img)
    except ImageInputError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as err:
        raise ImageInputError(
            f"{name} claims to be far too large to decode safely (a decompression bomb?); "
            f"the limit is {MAX_PIXELS / 1e6:.0f} megapixels."
        ) from err
    except UnidentifiedImageError as err:
        raise ImageInputError(f"{name} is not an image Pillow can read (PNG, JPEG, GIF, BMP, WebP, ...).") from err
    except (OSError, SyntaxError, ValueError, EOFError) as err:
        raise ImageInputError(f"{name} could not be decoded; it may be truncated or corrupt ({err}).") from err
    return gray


def to_grayscale(img: Image.Image) -> np.ndarray:
    """Any Pillow image (RGBA, palette, 16-bit, CMYK, ...) to float grayscale in [0, 1].

    Transparent pixels are painted as paper: the opposite of the strokes when the picture
    is mostly transparent (a drawing exported with no background), else the opaque part's
    own paper color. :func:`mnist_style` then decides which way the ink goes.
    """
    if img.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        arr = np.asarray(img, dtype=np.float64)
        top = 65535.0 if img.mode.startswith("I;16") or arr.max() > 255 else 255.0
        return np.clip(arr / top, 0.0, 1.0)
    if img.mode == "F":
        arr = np.asarray(img, dtype=np.float64)
        lo, hi = float(arr.min()), float(arr.max())
        return (arr - lo) / (hi - lo) if hi > lo else np.zeros_like(arr)
    if img.mode in ("P", "PA"):
        img = img.convert("RGBA")
    if img.mode in ("RGBA", "LA", "La", "RGBa"):
        rgba = img.convert("RGBA")
        alpha = np.asarray(rgba.getchannel("A"), dtype=np.float64) / 255.0
        if alpha.min() < 1.0:
            gray = np.asarray(rgba.convert("L"), dtype=np.float64) / 255.0
            opaque = alpha > 0.5
            if not opaque.any():
                background = 1.0
            elif opaque.mean() < 0.5:  # mostly transparent: the opaque strokes are the ink
                background = 1.0 - round(float(np.median(gray[opaque])))
            else:  # an opaque picture with transparent margins: extend its paper
                background = float(np.median(gray[opaque]))
            return alpha * gray + (1 - alpha) * background
        img = rgba
    return np.asarray(img.convert("L"), dtype=np.float64) / 255.0


WORK_SIDE = 160  # the working resolution: far more than a 20 x 20 digit needs, and fast to clean up
FRAME = 0.08  # the outer 8% of each side: paper in any picture of one digit, where the lighting is read
INK_SHARE = (0.04, 0.6)  # ink's share of its square box; MNIST's 500 test digits span 0.06 to 0.53
MIN_CONTRAST = 0.15  # the strokes must differ from the paper by this much (in units of the paper's brightness)
MIN_SNR = 8.0  # ... and by this many times the paper's own noise


@dataclass(frozen=True)
class Prepared:
    """A picture turned into what the models see, and why it may not look like a digit."""

    image: np.ndarray  # (28, 28) float32 in [0, 1], white ink on black, MNIST style
    warning: str | None  # for the page to show beside the image; None when it looks like a digit
    ink_share: float  # the ink (pixels above 0.5) over the area of the digit's square box


def _resize(gray: np.ndarray, height: int, width: int) -> np.ndarray:
    pil = Image.fromarray(gray.astype(np.float32), mode="F")
    return np.asarray(pil.resize((width, height), Image.Resampling.BOX), dtype=np.float64)


def _frame_mask(shape: tuple[int, int]) -> np.ndarray:
    h, w = shape
    fy, fx = max(1, round(FRAME * h)), max(1, round(FRAME * w))
    mask = np.ones(shape, bool)
    mask[fy : h - fy, fx : w - fx] = False
    return mask


def paper_background(gray: np.ndarray) -> tuple[np.ndarray, float]:
    """The paper's brightness under uneven lighting, as a smooth surface, and the paper's noise (sd).

    A quadratic in (x, y), fitted to the frame of the picture by least squares with outliers (ink that
    touches the edge) rejected: a phone's light falls off smoothly across a sheet. A large-window median
    or a morphological closing would take any mark wider than its window for paper and erase it, so a
    thick digit or a mostly-ink picture would come out as a thin outline that looks like a digit."""
    h, w = gray.shape
    yy, xx = np.mgrid[0:h, 0:w]
    y, x = (yy / max(h - 1, 1) - 0.5).ravel(), (xx / max(w - 1, 1) - 0.5).ravel()
    design = np.stack([np.ones_like(x), x, y, x * x, x * y, y * y], axis=1)
    values = gray.ravel()
    keep = _frame_mask(gray.shape).ravel()
    for _ in range(4):
        coef, *_ = np.linalg.lstsq(design[keep], values[keep], rcond=None)
        residual = values - design @ coef
        frame = residual[_frame_mask(gray.shape).ravel()]
        spread = 1.4826 * float(np.median(np.abs(frame - np.median(frame))))
        keep = _frame_mask(gray.shape).ravel() & (np.abs(residual) <= max(3 * spread, 1e-3))
    return (design @ coef).reshape(h, w), spread


def otsu_threshold(values: np.ndarray, bins: int = 256) -> float:
    """The threshold that maximises the between-class variance of the two sides (Otsu 1979)."""
    counts, edges = np.histogram(values, bins=bins)
    centers = (edges[:-1] + edges[1:]) / 2
    weight = np.cumsum(counts)
    mean = np.cumsum(counts * centers)
    total, total_mean = weight[-1], mean[-1]
    below, above = weight[:-1], total - weight[:-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        between = (total_mean * below / total - mean[:-1]) ** 2 / (below * above)
    between = np.nan_to_num(between, nan=-1.0)
    return float(edges[1:][:-1][int(np.argmax(between))])


def _components(mask: np.ndarray) -> list[np.ndarray]:
    """The 8-connected components of a boolean image, each as an (n, 2) array of (row, col)."""
    seen = np.zeros_like(mask, dtype=bool)
    h, w = mask.shape
    parts = []
    for start in zip(*np.nonzero(mask), strict=True):
        if seen[start]:
            continue
        seen[start] = True
        stack, part = [start], []
        while stack:
            r, c = stack.pop()
            part.append((r, c))
            for dr in (-1, 0, 1):
                for dc in (-1, 0, 1):
                    nr, nc = r + dr, c + dc
                    if 0 <= nr < h and 0 <= nc < w and mask[nr, nc] and not seen[nr, nc]:
                        seen[nr, nc] = True
                        stack.append((nr, nc))
        parts.append(np.array(part))
    return parts


def ink_map(gray: np.ndarray) -> tuple[np.ndarray, float, float]:
    """Ink intensity in [0, 1] (0 on the paper, 1 in a stroke), corrected for uneven lighting; with the
    strokes' contrast against the paper and the paper's noise, in the same units."""
    background, _ = paper_background(gray)
    residual = gray - background
    # Which way the ink goes: the side of the paper where the marks that stand out most lie.
    strong = np.abs(residual) >= 0.5 * np.percentile(np.abs(residual), 99.9)
    dark_ink = residual[strong].sum() < 0 if strong.any() else np.median(gray) > 0.5
    if dark_ink:  # reflected light: ink keeps a fraction of the paper's brightness, wherever the light is
        ink = -residual / np.maximum(background, 0.05)
    else:  # light strokes on a dark ground: the ground adds, it does not multiply
        ink = residual
    frame = ink[_frame_mask(ink.shape)]
    noise = 1.4826 * float(np.median(np.abs(frame - np.median(frame))))
    ink = np.clip(ink - np.median(frame), 0.0, None)
    return ink, float(np.percentile(ink, 99.9)), noise


def preprocess(gray: np.ndarray, size: int = 28, box: int = 20) -> Prepared:
    """A grayscale picture of one digit, either polarity, any lighting, to MNIST's format, with a warning
    when the result does not look like a digit.

    The paper's lighting is estimated and removed (:func:`paper_background`); Otsu's threshold separates
    ink from paper; specks far smaller than the digit are dropped; then as MNIST: white ink on black, the
    digit's bounding box fitted into a 20 x 20 box, its center of mass at the center of the 28 x 28 image.
    """
    gray = np.asarray(gray, dtype=np.float64)
    if gray.ndim != 2:
        raise ImageInputError(f"expected a 2-D grayscale image, got shape {gray.shape}")
    h, w = gray.shape
    if max(h, w) > WORK_SIDE:
        scale = WORK_SIDE / max(h, w)
        gray = _resize(gray, max(1, round(h * scale)), max(1, round(w * scale)))
    ink, contrast, noise = ink_map(gray)
    if contrast < 0.02:
        raise ImageInputError("no digit found: the image is blank or has too little contrast.")
    warnings_: list[str] = []
    if contrast < MIN_CONTRAST or contrast < MIN_SNR * noise:
        warnings_.append(
            f"no stroke stands out from the paper (the strongest marks differ from it by {contrast:.0%} of its "
            f"brightness, {contrast / max(noise, 1e-9):.0f} times its grain): is the page blank?"
        )
    threshold = otsu_threshold(ink.ravel())
    mask = ink > threshold
    level = float(np.median(ink[mask])) if mask.any() else contrast
    parts = _components(mask)
    biggest = max((len(p) for p in parts), default=0)
    kept = np.zeros_like(mask)
    for part in parts:
        if len(part) >= max(2, 0.05 * biggest):  # a speck of dust or grain is not part of the digit
            kept[part[:, 0], part[:, 1]] = True
    # Keep the strokes' soft edges (anti-aliasing, as in MNIST) next to the ink that was kept.
    near = np.asarray(Image.fromarray(kept.astype(np.uint8) * 255).filter(ImageFilter.MaxFilter(3))) > 0
    floor = min(3 * noise, 0.5 * threshold)
    digit_ink = np.where(near, np.clip((ink - floor) / max(level - floor, 1e-6), 0.0, 1.0), 0.0)

    rows, cols = np.nonzero(digit_ink > 0.1)
    if rows.size == 0:
        raise ImageInputError("no digit found: the image is blank or has too little contrast.")
    crop = digit_ink[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]
    ch, cw = crop.shape
    scale = box / max(ch, cw)
    new_h, new_w = max(1, round(ch * scale)), max(1, round(cw * scale))
    pil = Image.fromarray((crop * 255).astype(np.uint8)).resize((new_w, new_h), Image.Resampling.LANCZOS)
    digit = np.asarray(pil, dtype=np.float64) / 255.0

    out = np.zeros((size, size))
    total = digit.sum()
    cy, cx = (np.indices(digit.shape) * digit).reshape(2, -1).sum(1) / total if total > 0 else (new_h / 2, new_w / 2)
    top = min(max(int(round(size / 2 - cy)), 0), size - new_h)
    left = min(max(int(round(size / 2 - cx)), 0), size - new_w)
    out[top : top + new_h, left : left + new_w] = digit
    out = np.clip(out, 0.0, 1.0).astype(np.float32)

    share = ink_share(out)
    low, high = INK_SHARE
    if not warnings_ and share > high:
        warnings_.append(
            f"ink covers {share:.0%} of the digit's box (handwritten digits: about 6% to 53%): is the picture "
            "mostly ink, or cropped inside the digit?"
        )
    elif not warnings_ and share < low:
        warnings_.append(
            f"ink covers only {share:.0%} of the digit's box (handwritten digits: about 6% to 53%): only specks "
            "or a hairline were found."
        )
    warning = f"This does not look like a digit: {warnings_[0]}" if warnings_ else None
    return Prepared(out, warning, share)


def ink_share(digit: np.ndarray) -> float:
    """Pixels above 0.5 over the area of the square around the digit's bounding box (pixels above 0.1)."""
    rows, cols = np.nonzero(digit > 0.1)
    if rows.size == 0:
        return 0.0
    side = max(rows.max() - rows.min() + 1, cols.max() - cols.min() + 1)
    return float((digit > 0.5).sum() / side**2)


def mnist_style(gray: np.ndarray, size: int = 28, box: int = 20) -> np.ndarray:
    """A grayscale picture of one digit, either polarity, to MNIST's format: (28, 28) in [0, 1]."""
    return preprocess(gray, size, box).image


def upload_digit(data: bytes, name: str = "upload") -> Prepared:
    """Uploaded file bytes -> the MNIST-style digit, and a warning if it does not look like one."""
    return preprocess(load_upload(data, name))


def drawing_digit(rgba: np.ndarray | None) -> Prepared:
    """A canvas drawing (H, W, 4) uint8 RGBA -> the MNIST-style digit, and a warning if it does not look like one."""
    if rgba is None or rgba.size == 0:
        raise ImageInputError("draw a digit on the canvas first.")
    img = Image.fromarray(np.asarray(rgba, dtype=np.uint8), mode="RGBA")
    return preprocess(to_grayscale(img))


def prepare_upload(data: bytes, name: str = "upload") -> np.ndarray:
    """Uploaded file bytes -> a (28, 28) float32 MNIST-style digit in [0, 1]."""
    return upload_digit(data, name).image


def prepare_drawing(rgba: np.ndarray | None) -> np.ndarray:
    """A canvas drawing (H, W, 4) uint8 RGBA -> a (28, 28) float32 MNIST-style digit in [0, 1]."""
    return drawing_digit(rgba).image


def binarize(image: np.ndarray) -> np.ndarray:
    """The project's fixed binarization, rng(0).random(shape) < intensity, for one new image."""
    image = np.asarray(image, dtype=np.float32)
    return (np.random.default_rng(0).random(image.shape) < image).astype(np.float32)


def tile(images: np.ndarray, cols: int | None = None, pad: int = 1, pad_value: float = 0.35) -> np.ndarray:
    """(N, H, W) images in [0, 1] -> one (rows*(H+pad)+pad, cols*(W+pad)+pad) grid image."""
    images = np.asarray(images, dtype=np.float32)
    if images.ndim == 4:  # (N, 1, H, W)
        images = images[:, 0]
    n, h, w = images.shape
    cols = cols or int(np.ceil(np.sqrt(n)))
    rows = int(np.ceil(n / cols))
    grid = np.full((rows * (h + pad) + pad, cols * (w + pad) + pad), pad_value, dtype=np.float32)
    for i, img in enumerate(images):
        r, c = divmod(i, cols)
        grid[pad + r * (h + pad) : pad + r * (h + pad) + h, pad + c * (w + pad) : pad + c * (w + pad) + w] = img
    return grid


def upscale(image: np.ndarray, scale: int = DISPLAY_SCALE) -> Image.Image:
    """A float image in [0, 1] as a crisp 8-bit PIL image, each pixel a scale x scale block."""
    arr = (np.clip(np.asarray(image, dtype=np.float32), 0, 1) * 255).round().astype(np.uint8)
    return Image.fromarray(arr, mode="L").resize((arr.shape[1] * scale, arr.shape[0] * scale), Image.Resampling.NEAREST)


def png_bytes(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()


def grid_png(images: np.ndarray, cols: int | None = None, scale: int = 4) -> bytes:
    """A PNG of the images as a grid, upscaled by nearest neighbour: what the download gives."""
    return png_bytes(upscale(tile(images, cols), scale))
