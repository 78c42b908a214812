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


def lit_paper(h=480, w=360, seed=0, gradient=True) -> np.ndarray:
    """Paper under a phone's light: brightness from 0.30 in one corner to 0.95 in the other (or 0.8 all over
    without the gradient), with grain."""
    yy, xx = np.mgrid[0:h, 0:w]
    light = 0.30 + 0.65 * (0.6 * xx / w + 0.4 * yy / h) if gradient else np.full((h, w), 0.8)
    return light + np.random.default_rng(seed).normal(0, 0.02, (h, w))


def photo_of_a_four(lighting: np.ndarray) -> bytes:
    """A dark 4 on the paper (ink reflects 45% of the light that falls on it), as an 8-bit PNG."""
    ink = np.zeros(lighting.shape, bool)
    ink[120:300, 112:140] = True  # the left stroke
    ink[272:300, 112:262] = True  # the bar
    ink[100:380, 214:242] = True  # the stem
    photo = np.where(ink, 0.45 * lighting, lighting)
    return png(Image.fromarray((np.clip(photo, 0, 1) * 255).astype(np.uint8)))


def test_a_photo_under_uneven_lighting_is_centred_and_sized_like_mnist():
    even = img.upload_digit(photo_of_a_four(lit_paper(gradient=False)))
    photo = img.upload_digit(photo_of_a_four(lit_paper()), "four.png")
    digit = photo.image
    assert photo.warning is None, photo.warning
    rows, cols = np.nonzero(digit > 0.1)
    assert max(rows.max() - rows.min(), cols.max() - cols.min()) + 1 in (19, 20, 21), "fitted to a 20 px box"
    cy, cx = (np.indices(digit.shape) * digit).reshape(2, -1).sum(1) / digit.sum()
    assert abs(cy - 14) <= 1.0 and abs(cx - 14) <= 1.0, "centre of mass at the centre"
    assert 0.06 <= photo.ink_share <= 0.53, "ink covers as much of its box as in MNIST's test digits"
    off = np.ones_like(digit, bool)
    off[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1] = False
    assert digit[off].max() == 0, "the paper is black, however it was lit"
    assert np.abs(digit - even.image).mean() < 0.03, "the same digit as under even light"


def test_blank_paper_under_uneven_lighting_gets_a_warning():
    result = img.upload_digit(png(Image.fromarray((np.clip(lit_paper(), 0, 1) * 255).astype(np.uint8))), "blank.png")
    assert result.warning and "does not look like a digit" in result.warning
    assert "blank" in result.warning


def test_a_mostly_ink_picture_gets_a_warning():
    picture = np.full((480, 360), 230, np.uint8)
    picture[40:440, 30:330] = 20  # a page almost all ink, photographed up close
    result = img.upload_digit(png(Image.fromarray(picture)), "ink.png")
    assert result.warning and "does not look like a digit" in result.warning
    assert result.ink_share > img.INK_SHARE[1] and "mostly ink" in result.warning


def test_mnist_digits_themselves_get_no_warning():
    from inference import load_test_digits

    for digit in load_test_digits().images:
        assert img.preprocess(digit / 255.0).warning is None


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
