"""Bad input reaches the pages, not just the helpers: every broken upload gets a clear message and no
traceback; hand-made values in the link or the session are checked and clamped."""

import io
import sys
import tomllib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_images import BAD_INPUTS, drawn_seven  # noqa: E402

from inference import images as img  # noqa: E402

APP = str(Path(__file__).resolve().parent.parent / "streamlit_app.py")


def reconstruct_with_upload(name: str, data: bytes, mime: str = "image/png") -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.switch_page("app_pages/reconstruct.py").run()
    at.button_group(key="source").set_value("Upload").run()
    at.file_uploader(key="upload").set_value((name, data, mime)).run()
    return at


@pytest.mark.parametrize("name", list(BAD_INPUTS))
def test_bad_upload_gives_a_clear_message_on_the_page(name):
    data, message = BAD_INPUTS[name]
    at = reconstruct_with_upload(name, data)
    assert not at.exception, [e.value for e in at.exception]
    errors = " ".join(e.value for e in at.error)
    assert "That upload cannot be used" in errors and name in errors or message in errors, errors


def test_an_oversized_picture_reaches_the_app_and_replaces_the_last_message():
    """The browser marks a file over the server's limit red and says nothing; so the server takes more than
    the app's 5 MB, and the app refuses it in words, in place of the previous file's message."""
    config = tomllib.loads((Path(APP).parent / ".streamlit" / "config.toml").read_text())
    assert config["server"]["maxUploadSize"] * 2**20 > 2 * img.MAX_UPLOAD_BYTES
    at = reconstruct_with_upload("notes.png", b"not a picture")
    assert [e.value for e in at.error] and "notes.png" in at.error[0].value
    at.file_uploader(key="upload").set_value(("huge.png", b"\x89PNG" + bytes(6 * 2**20), "image/png")).run()
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and "huge.png" in errors[0] and "the limit is 5 MB" in errors[0], errors


def encoded(mode: str) -> tuple[str, bytes, str]:
    base = Image.fromarray(drawn_seven())
    buf = io.BytesIO()
    if mode == "CMYK":
        base.convert("CMYK").save(buf, format="JPEG")
        return "seven.jpg", buf.getvalue(), "image/jpeg"
    if mode == "GIF":
        frames = [base.convert("P"), Image.new("P", base.size, 0)]
        frames[0].save(buf, format="GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
        return "seven.gif", buf.getvalue(), "image/gif"
    if mode == "I;16":
        Image.fromarray(np.asarray(base).astype(np.uint16) * 257).save(buf, format="PNG")
    elif mode == "RGBA":
        rgba = np.zeros((*drawn_seven().shape, 4), np.uint8)
        rgba[..., 3] = np.where(drawn_seven() == 0, 255, 0)
        Image.fromarray(rgba, "RGBA").save(buf, format="PNG")
    else:
        base.convert(mode).save(buf, format="PNG")
    return f"seven-{mode}.png", buf.getvalue(), "image/png"


@pytest.mark.parametrize("mode", ["RGBA", "P", "I;16", "CMYK", "GIF", "LA"])
def test_unusual_but_valid_images_are_reconstructed(mode):
    at = reconstruct_with_upload(*encoded(mode))
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert len(at.get("image")) >= 4


def test_hand_made_link_values_are_checked():
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params.update({"model": "no_such_model", "n": "100000", "seed": "-3", "temperature_latent-variable": "99"})
    at.run()
    at.switch_page("app_pages/sample.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.sidebar.slider(key="n").value == 64, "clamped into the allowed range"
    assert any("64" in i.value for i in at.info), "and the page says so"
    assert at.sidebar.number_input(key="seed").value == 0
    assert any("seed -3" in i.value for i in at.info)
    assert 0.1 <= at.sidebar.slider(key="temperature_latent-variable").value <= 2.0
    assert at.sidebar.selectbox(key="model").value == "vae", "the page's default"
    assert any("'no_such_model'" in i.value and "VAE, 16-d latent" in i.value for i in at.info), "said in one line"


@pytest.mark.parametrize("given", ["pixelcnn", "PixelCNN"])
def test_a_link_names_its_model_by_name_or_by_title(given):
    """The README's links say /sample?model=pixelcnn; a link copied from the address bar says the title."""
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params.update({"model": given, "n": "4"})
    at.run()
    at.switch_page("app_pages/sample.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.sidebar.selectbox(key="model").value == "pixelcnn"


def test_out_of_range_session_values_are_clamped():
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state["digit_index"] = 10_000
    at.session_state["lab_frame"] = -7
    at.run()
    for page in ("reconstruct", "gan_lab"):
        at.switch_page(f"app_pages/{page}.py").run()
        assert not at.exception, (page, [e.value for e in at.exception])
    at.switch_page("app_pages/reconstruct.py").run()
    assert at.number_input(key="digit_index").value == 499
