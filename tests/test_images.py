"""Uploads and drawings into MNIST's format, and the bad inputs that must be refused clearly."""

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from inference import images as img


def png(image: Image.Image, **kw) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format="PNG", **kw)
    return buf.getvalue()


def drawn_seven(size=200, ink=0, paper=255) -> np.ndarray:
    """A rough 7, dark ink on light paper by default, off center."""
    a = np.full((size, size), paper, np.uint8)
    a[30:50, 40:150] = ink  # the bar
    for i in range(100):
        a[50 + i, 130 - i // 2 : 150 - i // 2] = ink  # the stem
    return a


def test_mnist_style_centers_and_fits_the_digit():
    digit = img.prepare_upload(png(Image.fromarray(drawn_seven())))
    assert digit.shape == (28, 28) and digit.dtype == np.float32
    assert 0 <= digit.min() and digit.max() <= 1
    assert digit[0].max() == 0 and digit[:, 0].max() == 0  # black paper
    rows, cols = np.nonzero(digit > 0.1)
    assert rows.max() - rows.min() + 1 <= 21 and cols.max() - cols.min() + 1 <= 21  # fits the 20 x 20 box
    assert max(rows.max() - rows.min(), cols.max() - cols.min()) + 1 >= 18
    cy, cx = (np.indices(digit.shape) * digit).reshape(2, -1).sum(1) / digit.sum()
    assert abs(cy - 14) <= 1.0 and abs(cx - 14) <= 1.0  # center of mass at the center


def test_polarity_does_not_matter():
    dark_on_light = img.prepare_upload(png(Image.fromarray(drawn_seven())))
    light_on_dark = img.prepare_upload(png(Image.fromarray(drawn_seven(ink=255, paper=0))))
    np.testing.assert_allclose(dark_on_light, light_on_dark, atol=0.02)


def test_a_test_digit_survives_the_round_trip():
    from inference import load_test_digits

    digit = load_test_digits().images[3]
    again = img.prepare_upload(png(Image.fromarray(digit)))
    assert np.abs(again - digit / 255).mean() < 0.08


@pytest.mark.parametrize("mode", ["RGBA", "LA", "P", "I;16", "CMYK", "RGB", "1", "F"])
def test_image_modes_are_converted(mode):
    base = Image.fromarray(drawn_seven())
    if mode == "I;16":
        image = Image.fromarray(np.asarray(base).astype(np.uint16) * 257)
        assert image.mode.startswith("I")
        data = png(image)
    elif mode == "RGBA":  # transparent paper, opaque black ink: the usual drawing-app export
        a = drawn_seven()
        rgba = np.zeros((*a.shape, 4), np.uint8)
        rgba[..., 3] = np.where(a == 0, 255, 0)
        data = png(Image.fromarray(rgba, "RGBA"))
    elif mode == "F":
        buf = io.BytesIO()
        base.convert("F").save(buf, format="TIFF")
        data = buf.getvalue()
    elif mode == "CMYK":
        buf = io.BytesIO()
        base.convert("CMYK").save(buf, format="JPEG")
        data = buf.getvalue()
    else:
        data = png(base.convert(mode))
    digit = img.prepare_upload(data, f"seven-{mode}")
    reference = img.prepare_upload(png(base))
    assert np.abs(digit - reference).mean() < 0.05, mode


def test_animated_gif_uses_the_first_frame():
    frames = [Image.fromarray(drawn_seven()).convert("P"), Image.new("P", (200, 200), 0)]
    buf = io.BytesIO()
    frames[0].save(buf, format="GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    digit = img.prepare_upload(buf.getvalue(), "anim.gif")
    assert digit.max() > 0.5


def bomb_png(width=20_000, height=20_000) -> bytes:
    """A valid PNG header (IHDR) claiming a huge image, with a tiny compressed body."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    row = b"\x00" + b"\x00" * width
    compressor = zlib.compressobj(9)
    body = b"".join(compressor.compress(row) for _ in range(4)) + compressor.flush()
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", body) + chunk(b"IEND", b"")


def truncated(fmt: str) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(drawn_seven()).convert("RGB").save(buf, format=fmt)
    data = buf.getvalue()
    return data[: len(data) // 2]


BAD_INPUTS = {
    "empty.png": (b"", "empty"),
    "random.png": (np.random.default_rng(0).bytes(4096), "not an image"),
    "truncated.png": (truncated("PNG"), "truncated or corrupt"),
    "truncated.jpg": (truncated("JPEG"), "truncated or corrupt"),
    "bomb.png": (bomb_png(), "megapixels"),
    "tiny.png": (png(Image.new("L", (1, 1), 255)), "at least"),
    "notes.png": (b"just some text, not a picture\n" * 20, "not an image"),
    "drawing.svg": (
        b'<svg xmlns="http://www.w3.org/2000/svg" width="28" height="28"><circle r="9"/></svg>',
        "not an image",
    ),
    "blank.png": (png(Image.new("L", (64, 64), 255)), "no digit"),
    "huge.png": (b"\x89PNG" + b"\x00" * (img.MAX_UPLOAD_BYTES + 1), "limit"),
}


@pytest.mark.parametrize("name", list(BAD_INPUTS))
def test_bad_uploads_raise_a_clear_error(name):
    data, message = BAD_INPUTS[name]
    with pytest.raises(img.ImageInputError, match=message):
        img.prepare_upload(data, name)


def test_drawing_from_the_canvas():
    rgba = np.zeros((280, 280, 4), np.uint8)
    rgba[..., 3] = 255
    rgba[60:220, 130:150, :3] = 255  # a white "1" on the black canvas
    digit = img.prepare_drawing(rgba)
    assert digit.shape == (28, 28) and digit.max() > 0.9
    with pytest.raises(img.ImageInputError, match="draw"):
        img.prepare_drawing(None)


def test_tile_and_upscale_are_crisp():
    images = np.random.default_rng(0).random((5, 28, 28)).astype(np.float32)
    grid = img.tile(images, cols=3, pad=1)
    assert grid.shape == (2 * 29 + 1, 3 * 29 + 1)
    np.testing.assert_allclose(grid[1:29, 1:29], images[0])
    big = np.asarray(img.upscale(images[0], 4))
    assert big.shape == (112, 112)
    # nearest neighbour: every 4 x 4 block is one value
    assert (big.reshape(28, 4, 28, 4).std(axis=(1, 3)) == 0).all()
    assert img.grid_png(images).startswith(b"\x89PNG")
