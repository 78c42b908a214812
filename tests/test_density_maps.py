"""The Density in 2-D page's maps: stored at export for every set and model, current with the shipped files, the
same as the page would compute live, and replaced by a live computation when a model changed since."""

from pathlib import Path

import numpy as np
import pytest

from inference import density, density_maps
from inference.ganlab import load_lab_card
from inference.toy import TOYS

REPO = Path(__file__).resolve().parent.parent
EXPORTED = REPO / "exported"
CARD = density.load_density_card(EXPORTED)
LAB = load_lab_card(EXPORTED)
STORED = density_maps.read(EXPORTED / density_maps.FILE)


def trained(dataset):
    models, problems = density.load_trained(dataset, CARD, LAB, EXPORTED)
    assert not problems
    return models


@pytest.mark.parametrize("dataset", list(CARD.datasets_2d))
def test_every_shown_map_is_stored_and_current(dataset):
    """A model retrained without `python -m training density-maps` would leave its map stale: this fails then."""
    for kind, model in trained(dataset).items():
        assert (dataset, kind) in STORED, f"{dataset}/{kind}: no stored map"
        assert STORED[(dataset, kind)][1] == density_maps.model_source(model), (
            f"{dataset}/{kind}: computed from other files"
        )
        assert STORED[(dataset, kind)][0].samples.shape == (density_maps.SHOWN_SAMPLES, 2)
    assert STORED[(dataset, density_maps.TRUE)][1] == density_maps.true_source(TOYS[dataset])


def test_stored_maps_are_what_the_page_computes_live():
    """Every kind of map of one set (exact densities, the VAE's estimate, kernel estimates of samples), recomputed
    through the app's code from the ONNX files: the same levels to one step (0.04 nats) of onnxruntime's rounding."""
    dataset = "ring8"
    live = {kind: density_maps.model_map(kind, m) for kind, m in trained(dataset).items()}
    live[density_maps.TRUE] = density_maps.true_map(TOYS[dataset])
    assert {"mixture", "flow", "autoregressive", "vae", "gan", "diffusion"} <= set(live)
    for kind, m in live.items():
        stored = STORED[(dataset, kind)][0]
        assert stored.levels.shape == m.levels.shape, kind
        assert np.abs(stored.levels.astype(int) - m.levels).max() <= 1, kind
        assert stored.top == pytest.approx(m.top, abs=1e-3), kind
        if m.samples is not None:
            np.testing.assert_allclose(stored.samples, m.samples, atol=1e-4)


def test_leveling_keeps_the_shown_range():
    values = np.array([[0.0, -2.5], [-10.0, -np.inf], [np.nan, -40.0]])
    m = density_maps.leveled(values)
    assert m.top == 0.0
    np.testing.assert_allclose(m.log_p()[0], [0.0, -2.5], atol=density_maps.FLOOR / 255 / 2 + 1e-12)
    assert (m.levels[1:] == 0).all(), "the floor, zero density and below the floor all show as the floor"
    assert m.levels[0, 0] == 255


def test_a_missing_or_broken_file_reads_as_no_maps(tmp_path):
    assert density_maps.read(tmp_path / "none.npz") == {}
    broken = tmp_path / "broken.npz"
    broken.write_bytes(b"PK\x03\x04 not a zip")
    assert density_maps.read(broken) == {}


def test_round_trip(tmp_path):
    m = density_maps.leveled(np.linspace(-12, 0, 16).reshape(4, 4), samples=np.ones((3, 2)))
    path = density_maps.write(tmp_path / "m.npz", {("ring8", "flow"): (m, "net:abc")})
    ((back, src),) = density_maps.read(path).values()
    assert src == "net:abc" and back.top == m.top and (back.levels == m.levels).all()
    np.testing.assert_array_equal(back.samples, m.samples)


def test_the_page_computes_a_stale_map_live(monkeypatch):
    """A stored map whose networks have changed since is not shown: the page computes the map again."""
    from app import models

    stale = density_maps.DensityMap(np.zeros((200, 200), np.uint8), 99.0, np.zeros((500, 2), np.float32))
    monkeypatch.setattr(models, "_stored_maps", lambda folder: {("ring8", "mixture"): (stale, "an older model")})
    shown = models.density_map("ring8", "mixture")
    assert shown.top != 99.0
    assert np.abs(shown.levels.astype(int) - STORED[("ring8", "mixture")][0].levels).max() <= 1
