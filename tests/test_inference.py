"""The app's inference package: registry, models, latent paths, likelihoods (numpy + onnxruntime)."""

import json
import os
import shutil
import time
from pathlib import Path

import numpy as np
import pytest

from inference import EXPORTED_DIR, ModelUnavailable, latent, load_model, load_test_digits, runtime, scan
from inference.numeric import bernoulli_log_prob

SHIPPED = sorted(n for n, e in scan().items() if e.capabilities.has_encoder)


def test_every_shipped_model_is_available():
    entries = scan()
    assert {
        "ae",
        "vae",
        "vae2d",
        "pixelcnn",
        "gated_pixelcnn",
        "pixelrnn",
        "pixelrnn_diagonal",
        "pixelcnn_pp",
        "pixelcnn_softmax",
        "pixelcnn_multiscale",
        "dcgan",
        "cgan",
        "classifier",
    } <= entries.keys()
    for entry in entries.values():
        assert entry.available, entry.problem


@pytest.mark.parametrize("name", SHIPPED)
def test_sample_shape_range_and_seed(name):
    model = load_model(name)
    a = model.sample(6, seed=11)
    assert a.shape == (6, 28, 28) and a.dtype == np.float32
    assert 0 <= a.min() and a.max() <= 1
    np.testing.assert_array_equal(a, model.sample(6, seed=11))  # same seed, same pictures
    assert not np.array_equal(a, model.sample(6, seed=12))
    cold = model.sample(6, seed=11, temperature=0.1)
    assert not np.array_equal(a, cold)


@pytest.mark.parametrize("name", SHIPPED)
def test_reconstruction_beats_a_blank_guess(name):
    model = load_model(name)
    digits = load_test_digits()
    x = digits.binary[:20].astype(np.float32)
    recon = model.reconstruct(x)
    assert recon.shape == (20, 28, 28)
    err = model.reconstruction_error(x)
    blank = -bernoulli_log_prob(np.full((20, 28, 28), np.log(0.13 / 0.87), np.float32), x)
    assert (err < blank).mean() > 0.9


def test_vae_elbo_is_the_cards_and_the_looser_bound():
    """The one-sample ELBO (seed 0) through the ONNX files is the card's figure, and below its IWAE bound."""
    vae = load_model("vae")
    elbo = vae.elbo(load_test_digits().binary.astype(np.float32), seed=0).mean()
    assert elbo == pytest.approx(vae.card.metrics.elbo_nats, abs=1e-3)
    assert elbo <= -vae.card.metrics.nll_nats


# A bound's per-image figures are at the card's largest k (5,000 importance samples): minutes to recompute.
LIKELIHOOD = [
    pytest.param(n, marks=pytest.mark.slow) if e.capabilities.density == "bound" else n
    for n, e in sorted(scan().items())
    if e.capabilities.has_likelihood
]


@pytest.mark.parametrize("name", LIKELIHOOD)
def test_stored_per_image_test_nll_is_what_the_exported_model_computes(name):
    """The likelihood pages read each test digit's -log p(x) from the card instead of scoring 500 digits."""
    from inference.metrics import nll_nats

    model = load_model(name)
    stored = np.asarray(model.card.metrics.test_nll_per_image)
    digits = load_test_digits()
    assert stored.shape == (500,) and np.isfinite(stored).all()
    # Each model on its own track: the fixed binarization, or the 8-bit intensities (a flow, a diffusion model).
    x = digits.binary if model.capabilities.image_kind == "binary" else digits.gray(np.arange(len(digits.images)))
    # Exact per image for autoregressive models and flows, so a slice will do; a bound (a VAE's IWAE, a diffusion
    # model's stratified steps) draws its noise for the whole batch, so it is recomputed whole.
    count = 500 if model.density == "bound" else 40
    np.testing.assert_allclose(nll_nats(model, x[:count]), stored[:count], atol=2e-3)
    assert stored.mean() == pytest.approx(model.card.metrics.nll_nats, abs=1e-3)  # rounded to 0.001 per image


def test_test_digits_match_the_fixed_split():
    digits = load_test_digits()
    assert digits.images.shape == (500, 28, 28) and np.bincount(digits.labels).tolist() == [50] * 10
    expected = np.random.default_rng(0).random(digits.images.shape) < digits.images / 255
    np.testing.assert_array_equal(digits.binary, expected)


def test_interpolation_paths():
    rng = np.random.default_rng(0)
    z0, z1 = rng.standard_normal(16), rng.standard_normal(16)
    for kind in ("linear", "slerp"):
        path = latent.interpolate(z0, z1, 7, kind)
        assert path.shape == (7, 16)
        np.testing.assert_allclose(path[0], z0, atol=1e-5)
        np.testing.assert_allclose(path[-1], z1, atol=1e-5)
    slerp = latent.interpolate(z0, z1, 7, "slerp")
    linear = latent.interpolate(z0, z1, 7, "linear")
    # slerp keeps the norm on the line between the endpoint norms; the straight line dips inside
    norms = np.linalg.norm(slerp, axis=1)
    np.testing.assert_allclose(norms, np.linspace(np.linalg.norm(z0), np.linalg.norm(z1), 7), rtol=1e-5)
    assert np.linalg.norm(linear[3]) < norms[3]
    with pytest.raises(ValueError):
        latent.interpolate(z0, z1, 1)
    with pytest.raises(ValueError):
        latent.interpolate(z0, z1, 5, "cubic")


@pytest.fixture
def exported_copy(tmp_path):
    folder = tmp_path / "exported"
    shutil.copytree(EXPORTED_DIR, folder)
    return folder


def test_missing_corrupt_and_tampered_models_are_unavailable_with_reasons(exported_copy):
    (exported_copy / "ae_decoder.onnx").unlink()
    (exported_copy / "vae2d_encoder.onnx").write_bytes(b"\x08\x07garbage")
    card = json.loads((exported_copy / "vae.json").read_text())
    card["networks"]["decoder"]["sha256"] = "0" * 64
    malformed = json.loads((exported_copy / "pixelcnn.json").read_text())
    malformed["metrics"]["nll_nats"] = "low"  # a figure that is not a number
    (exported_copy / "pixelcnn.json").write_text(json.dumps(malformed))
    (exported_copy / "vae.json").write_text(json.dumps(card))
    (exported_copy / "broken.json").write_text("{not json")

    entries = scan(exported_copy)
    assert "ae_decoder.onnx is missing" in entries["ae"].problem
    assert "vae2d_encoder.onnx does not match the sha256" in entries["vae2d"].problem
    assert "does not match the sha256" in entries["vae"].problem
    assert "cannot be read" in entries["broken"].problem
    assert "pixelcnn.json.metrics.nll_nats: expected a number" in entries["pixelcnn"].problem, "the file and the field"
    for name in ("ae", "vae", "vae2d", "broken", "pixelcnn"):
        with pytest.raises(ModelUnavailable, match="unavailable"):
            load_model(name, exported_copy)
    with pytest.raises(ModelUnavailable, match="no model card"):
        load_model("nonexistent", exported_copy)


def test_corrupt_onnx_with_matching_hash_is_caught_by_onnxruntime(exported_copy):
    """A file whose card was regenerated over garbage still fails cleanly when loaded."""
    import hashlib

    bad = exported_copy / "ae_encoder.onnx"
    bad.write_bytes(b"not an onnx model at all")
    card = json.loads((exported_copy / "ae.json").read_text())
    card["networks"]["encoder"]["sha256"] = hashlib.sha256(bad.read_bytes()).hexdigest()
    (exported_copy / "ae.json").write_text(json.dumps(card))
    assert scan(exported_copy)["ae"].available  # the hash matches...
    with pytest.raises(ModelUnavailable, match="not a valid ONNX model"):
        load_model("ae", exported_copy)  # ...but onnxruntime refuses it, and we say so
    assert load_model("vae", exported_copy).sample(2, seed=0).shape == (2, 28, 28)


@pytest.mark.skipif(
    runtime.resident_mb() is None or runtime._MALLOC_TRIM is None, reason="measures glibc's heap on Linux"
)
def test_release_free_memory_returns_freed_heap_above_the_budget_only():
    blocks = [np.ones(12_000) for _ in range(2_000)]  # 96 KB each, under glibc's mmap threshold: heap blocks
    survivors = blocks[::50]  # a few live blocks keep the freed ones from being at the heap's top
    del blocks
    held = runtime.resident_mb()
    assert not runtime.release_free_memory(budget_mb=held + 100)
    assert runtime.release_free_memory(budget_mb=0)
    assert runtime.resident_mb() < held - 100, "most of the ~190 MB freed went back to the system"
    assert len(survivors) == 40


def test_memory_is_released_once_the_server_stays_idle(monkeypatch):
    """Garbage collected, then freed memory released: only after the last run to finish, and only if no run starts
    within IDLE_TRIM_SECONDS (Streamlit's own collection after every run is off: .streamlit/config.toml)."""
    calls = []
    monkeypatch.setattr(runtime, "release_free_memory", lambda: calls.append("trim"))
    monkeypatch.setattr(runtime.gc, "collect", lambda: calls.append("gc"))
    monkeypatch.setattr(runtime, "IDLE_TRIM_SECONDS", 0.2)
    with runtime.script_run():
        with runtime.script_run():  # two sessions' runs overlapping
            pass
        time.sleep(0.4)
        assert calls == [], "another run is still going"
    assert calls == [], "not at once: the next run may be about to start"
    time.sleep(0.4)
    assert calls == ["gc", "trim"]
    with pytest.raises(RuntimeError), runtime.script_run():  # st.stop() and reruns leave by exceptions
        raise RuntimeError
    with runtime.script_run():  # a run that starts within the wait calls the first trim off
        pass
    time.sleep(0.4)
    assert calls == ["gc", "trim", "gc", "trim"], "one collection and trim for the burst, after its last run"


def test_the_server_neither_watches_its_files_nor_collects_after_every_run():
    """Both cost a class opening the link most of the server's time per page (benchmarks/README.md): a file watch
    set up for every session, a full garbage collection after every script run (the app collects when idle)."""
    import tomllib

    config = tomllib.loads((Path(__file__).resolve().parent.parent / ".streamlit" / "config.toml").read_text())
    assert config["server"]["fileWatcherType"] == "none"
    assert config["runner"]["postScriptGC"] is False


def test_script_runs_are_logged_when_the_environment_asks(monkeypatch, tmp_path):
    log = tmp_path / "runs.jsonl"
    with runtime.script_run("sample"):
        pass
    assert not log.exists(), "nothing logged unless GENLAB_RUN_LOG is set"
    monkeypatch.setenv("GENLAB_RUN_LOG", str(log))
    with runtime.script_run("sample"):
        time.sleep(0.05)
    with pytest.raises(RuntimeError), runtime.script_run("compare"):
        raise RuntimeError
    first, second = (json.loads(line) for line in log.read_text().splitlines())
    assert first["page"] == "sample" and first["outcome"] == "ok" and 0.05 <= first["seconds"] < 5
    assert second["page"] == "compare" and second["outcome"] == "RuntimeError"
    assert first["pid"] == os.getpid() and second["start"] >= first["start"]
    monkeypatch.setenv("GENLAB_RUN_LOG", str(tmp_path / "no such folder" / "runs.jsonl"))
    with runtime.script_run("sample"):  # a log that cannot be written does not break the page
        pass


def test_malloc_is_tuned_once_and_leaves_the_environments_settings(monkeypatch):
    import platform

    if not (platform.system() == "Linux" and platform.libc_ver()[0] == "glibc"):
        assert runtime.tune_malloc() == []
        return
    monkeypatch.setattr(runtime, "_tuned", None)
    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    assert runtime.tune_malloc() == ["MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_"], "the heap count as set"
    monkeypatch.delenv("MALLOC_ARENA_MAX")
    assert runtime.tune_malloc() == ["MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_"], "once a process"


def test_memory_budget_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("GENLAB_MEMORY_BUDGET_MB", "1200")
    assert runtime.memory_budget_mb() == 1200
    monkeypatch.setenv("GENLAB_MEMORY_BUDGET_MB", "lots")
    assert runtime.memory_budget_mb() == 400
