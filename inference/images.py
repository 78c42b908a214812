"""Image pre- and post-processing: uploads and drawings into MNIST's format, grids for display.

MNIST digits are white on black, 28 x 28, with the digit's bounding box scaled to fit a
20 x 20 box (keeping its aspect ratio) and the box placed so that the digit's center of
mass is at the image center (LeCun et al.). :func:`mnist_style` does the same to any
grayscale picture, so an upload or a drawing reaches the models the way MNIST did.
"""

from __future__ import annotations

import io
import warnings

import numpy as np
from PIL import Image, UnidentifiedImageError

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
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
        raise ImageInputError(f"{name} is {len(data) / 2**20:.1f} MB; the limit is {MAX_UPLOAD_BYTES / 2**20:.0f} MB.")
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


def mnist_style(gray: np.ndarray, size: int = 28, box: int = 20) -> np.ndarray:
    """A grayscale picture of one digit, either polarity, to MNIST's format: (28, 28) in [0, 1].

    White ink on black; the digit's bounding box fitted into a 20 x 20 box; placed so that
    its center of mass is at the center of the 28 x 28 image.
    """
    gray = np.asarray(gray, dtype=np.float64)
    if gray.ndim != 2:
        raise ImageInputError(f"expected a 2-D grayscale image, got shape {gray.shape}")
    # The paper is the border's typical value; make ink bright and paper black.
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    if np.median(border) > 0.5:
        gray, border = 1.0 - gray, 1.0 - border
    gray = np.clip(gray - np.median(border), 0.0, 1.0)
    peak = gray.max()
    if peak < 0.15:
        raise ImageInputError("no digit found: the image is blank or has too little contrast.")
    gray = gray / peak
    rows, cols = np.nonzero(gray > 0.1)
    crop = gray[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]
    h, w = crop.shape
    scale = box / max(h, w)
    new_h, new_w = max(1, round(h * scale)), max(1, round(w * scale))
    pil = Image.fromarray((crop * 255).astype(np.uint8)).resize((new_w, new_h), Image.Resampling.LANCZOS)
    digit = np.asarray(pil, dtype=np.float64) / 255.0

    out = np.zeros((size, size))
    total = digit.sum()
    cy, cx = (np.indices(digit.shape) * digit).reshape(2, -1).sum(1) / total if total > 0 else (new_h / 2, new_w / 2)
    top = int(round(size / 2 - cy))
    left = int(round(size / 2 - cx))
    top = min(max(top, 0), size - new_h)
    left = min(max(left, 0), size - new_w)
    out[top : top + new_h, left : left + new_w] = digit
    return np.clip(out, 0.0, 1.0).astype(np.float32)


def prepare_upload(data: bytes, name: str = "upload") -> np.ndarray:
    """Uploaded file bytes -> a (28, 28) float32 MNIST-style digit in [0, 1]."""
    return mnist_style(load_upload(data, name))


def prepare_drawing(rgba: np.ndarray | None) -> np.ndarray:
    """A canvas drawing (H, W, 4) uint8 RGBA -> a (28, 28) float32 MNIST-style digit in [0, 1]."""
    if rgba is None or rgba.size == 0:
        raise ImageInputError("draw a digit on the canvas first.")
    img = Image.fromarray(np.asarray(rgba, dtype=np.uint8), mode="RGBA")
    return mnist_style(to_grayscale(img))


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
