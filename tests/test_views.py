"""The views stored at export (inference.views): there for every shipped model and current with its files, what the
pages compute live, used by the pages at their defaults, and replaced by a live computation when a model changed."""

from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from inference import load_model, load_test_digits, scan, views

REPO = Path(__file__).resolve().parent.parent
EXPORTED = REPO / "exported"
STORED = views.read(EXPORTED / views.FILE)
DIGITS = load_test_digits(EXPORTED)
SHIPPED = {name: e for name, e in scan(EXPORTED).items() if e.available}


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_every_model_has_its_views_stored_and_current(name):
    """A model re-exported without its views would show stale ones: this fails then (`python -m training views`)."""
    card = SHIPPED[name].card
    made_from = views.source(card, views.digits_source(EXPORTED))
    for kind in views.row_kinds(SHIPPED[name].capabilities):
        key = views.row_key(name, kind, views.DEFAULT_SEED)
        assert key in STORED, f"no stored {kind} row"
        assert STORED[key][1] == made_from, f"its {kind} row was computed from other files"
    if SHIPPED[name].capabilities.has_likelihood:
        key = views.nll_key(name, views.default_probes(DIGITS, SHIPPED[name].capabilities.image_kind))
        assert key in STORED and STORED[key][1] == made_from, "no current probe scores"
    if SHIPPED[name].capabilities.has_encoder:
        assert STORED[views.codes_key(name)][1] == made_from, "no current codes of the test digits"
    if SHIPPED[name].capabilities.can_complete:
        key = views.completion_key(name, *views.default_completion_settings(load_model(name, EXPORTED), DIGITS))
        assert key in STORED and STORED[key][1] == made_from, "no current completions"
        assert f"{key}/seconds" in STORED


def test_nothing_stored_for_a_model_that_is_not_shipped():
    assert {key.split("/", 1)[0] for key in STORED} <= set(SHIPPED)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(n for n, e in SHIPPED.items() if views.row_kinds(e.capabilities)))
def test_stored_views_are_what_the_pages_compute_live(name):
    """Recomputed through the shipped ONNX files: the same pictures (a sampler's threshold may tip a pixel or two on
    another machine's rounding, and its later pixels with it) and the same scores."""
    live = views.model_views(name, load_model(name, EXPORTED), DIGITS, EXPORTED)
    assert set(live) == {k for k in STORED if k.split("/", 1)[0] == name}
    for key, (value, made_from) in live.items():
        stored, stored_from = STORED[key]
        assert stored_from == made_from and stored.shape == value.shape, key
        if key.endswith("/seconds"):  # how long it took to draw: a time, not a picture
            assert 0 < stored < 60 and 0 < value < 60
        elif "/nll/" in key or "/codes/" in key:
            np.testing.assert_allclose(stored, value, rtol=1e-4, atol=1e-4, err_msg=key)
        else:
            assert np.mean(np.abs(stored - value) > 1 / 255) <= 0.02, key


def test_a_missing_or_broken_file_reads_as_no_views(tmp_path):
    assert views.read(tmp_path / "none.npz") == {}
    broken = tmp_path / "broken.npz"
    broken.write_bytes(b"PK\x03\x04 not a zip")
    assert views.read(broken) == {}


def test_round_trip_and_a_changed_source_is_not_used(tmp_path):
    row = np.arange(8 * 28 * 28, dtype=np.float32).reshape(8, 28, 28)
    path = views.write(tmp_path / "v.npz", {"vae/compare/samples/0": (row, "net:abc")})
    back = views.read(path)
    np.testing.assert_array_equal(views.stored(back, "vae/compare/samples/0", "net:abc"), row)
    assert views.stored(back, "vae/compare/samples/0", "net:retrained") is None
    assert views.stored(back, "vae/compare/samples/1", "net:abc") is None


def test_scores_are_stored_by_the_images_they_score():
    probes = views.default_probes(DIGITS, "binary")
    assert views.nll_key("vae", probes) == views.nll_key("vae", probes.astype(np.float64))
    other = probes.copy()
    other[0, 0, 0] = 1 - other[0, 0, 0]
    assert views.nll_key("vae", other) != views.nll_key("vae", probes)


def open_page(page: str, **state) -> AppTest:
    """A page after its first run; ``state``: session state set before it (a toggle's key and value)."""
    at = AppTest.from_file(str(REPO / "streamlit_app.py"), default_timeout=120)
    at.run()
    at.switch_page(page)
    for key, value in state.items():
        at.session_state[key] = value
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


@pytest.mark.parametrize("on_server", [True, False])
def test_compare_shows_the_stored_rows_at_the_default_seed_and_draws_another(record_calls, on_server):
    """Its first render draws nothing (export did); another seed draws every row on the server, or, with the samplers
    in the browser, only the rows of one network pass (no sampler runs on the server)."""
    from app import models

    models._compare_row.clear()
    calls = record_calls(views, "compare_row")  # the pages call it through the module
    at = open_page("app_pages/compare.py", compare_on_server=on_server)
    assert calls == [], "the default seed's rows are stored"
    at.sidebar.number_input(key="seed").set_value(5).run()
    assert not at.exception
    drawn = {(model.card.name, kind) for model, kind, *_ in calls}
    samplers = {(n, "samples") for n in ("pixelcnn", "pixelcnn_pp", "ddpm", "pixelcnn_multiscale", "gated_pixelcnn")}
    if on_server:
        assert {"samples", "reconstructions", "completions"} <= {kind for _, kind in drawn}
        assert samplers <= drawn
    else:
        assert {"samples", "reconstructions"} == {kind for _, kind in drawn}, "no completion on the server"
        assert not samplers & drawn and ("vae", "samples") in drawn, "one-pass rows only"


def test_out_of_distribution_shows_the_stored_scores_of_the_default_digit(record_calls):
    from app import models

    models._nll_of.clear()
    calls = record_calls(models, "nll_nats")
    at = open_page("app_pages/image_likelihood.py")
    assert calls == [], "the default digit's probes are scored at export"
    at.number_input(key="digit_index").set_value(3).run()
    assert not at.exception
    assert calls, "another digit is scored live"


def test_latent_structure_encodes_nothing_on_its_first_render(record_calls):
    import streamlit as st

    st.cache_data.clear()  # the page's own cache of what it computed from the codes, too
    calls = record_calls(views, "test_codes")
    open_page("app_pages/latent.py")
    assert calls == [], "the test digits' codes are stored at export"
