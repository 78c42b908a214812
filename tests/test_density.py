"""Density estimation: exact densities integrate to 1, ONNX matches PyTorch, EM climbs, the targets."""

import math
from pathlib import Path

import numpy as np
import pytest
import scipy.stats
import torch

from inference import density
from inference.toy import TOYS, TOYS_1D, Toy1D
from training.studies.density import load_density_checkpoint

REPO = Path(__file__).resolve().parent.parent
CARD = density.load_density_card(REPO / "exported")
EXACT_2D = [(d, k) for d, e in CARD.datasets_2d.items() for k in e.models if CARD.models_2d[k].density == "exact"]


def test_true_log_density_against_closed_forms():
    g = Toy1D("g", "Gaussian", "mixture", ((1.0,), (0.5,), (2.0,)))
    x = np.linspace(-5, 5, 11)
    np.testing.assert_allclose(g.log_density(x), scipy.stats.norm.logpdf(x, 0.5, 2.0), atol=1e-12)
    # the held-out log-likelihood of the true density estimates minus its entropy
    held = g.sample(200_000, 1)
    assert g.log_density(held).mean() == pytest.approx(-0.5 * math.log(2 * math.pi * math.e * 4.0), abs=0.01)
    t = TOYS_1D["heavy"]
    np.testing.assert_allclose(t.log_density(x), scipy.stats.t.logpdf(x, 2.5), atol=1e-12)
    s = TOYS_1D["skewed"]
    np.testing.assert_allclose(s.log_density(x[x > 0]), scipy.stats.lognorm.logpdf(x[x > 0], 0.6), atol=1e-12)


@pytest.mark.parametrize("name", list(TOYS))
def test_toy_densities_integrate_to_one(name):
    ticks, values = density.grid_log_density(TOYS[name].log_density, 600, extent=6.0)
    assert np.exp(values).sum() * (ticks[1] - ticks[0]) ** 2 == pytest.approx(1.0, abs=0.01)


@pytest.mark.parametrize("dataset,kind", EXACT_2D)
def test_exact_model_densities_integrate_to_one(dataset, kind):
    model = density.TrainedDensity(kind, CARD.datasets_2d[dataset].models[kind])
    ticks, values = density.grid_log_density(model.log_prob, 500, extent=8.0)
    assert np.exp(values).sum() * (ticks[1] - ticks[0]) ** 2 == pytest.approx(1.0, abs=0.02)


@pytest.mark.parametrize("dataset", list(CARD.datasets_1d))
def test_1d_flow_integrates_to_one(dataset):
    flow = density.TrainedDensity("flow", CARD.datasets_1d[dataset].flow)
    x = np.linspace(-40, 40, 80_001, dtype=np.float32)
    assert np.trapezoid(np.exp(flow.log_prob(x[:, None])), x) == pytest.approx(1.0, abs=0.02)


def all_stems():
    for d, e in CARD.datasets_2d.items():
        for k in e.models:
            yield f"{d}_{k}", e.models[k]
    for d, e in CARD.datasets_1d.items():
        yield f"1d_{d}_flow", e.flow


@pytest.mark.parametrize("stem,entry", list(all_stems()), ids=lambda v: v if isinstance(v, str) else "")
def test_onnx_parity_for_every_density_network(stem, entry):
    from inference.runtime import Network

    model = load_density_checkpoint(REPO / "checkpoints" / "density" / f"{stem}.pt")
    rng = np.random.default_rng(0)
    for role, net in model.networks().items():
        session = Network(REPO / "exported" / entry.networks[role].file, entry.networks[role].sha256)
        width = net.example_inputs[0].shape[1]
        x = rng.standard_normal((7, width)).astype(np.float32)  # a batch size the export never saw
        if role == "sample" and width > 2 and "mixture" in stem:
            x[:, 0] = rng.random(7)  # the component-picking uniform
        if role == "sample" and "autoregressive" in stem:
            x[:, [0, 2]] = rng.random((7, 2))
        inputs = [x] + [rng.integers(0, 100, 7).astype(np.float32) for _ in net.example_inputs[1:]]  # step indices
        with torch.no_grad():
            want = net.module(*map(torch.tensor, inputs))
        want = want if isinstance(want, tuple) else (want,)
        got = session(*inputs)
        for name, w in zip(session.output_names, want, strict=True):
            np.testing.assert_allclose(got[name], w.numpy(), atol=1e-4, rtol=1e-4)


def test_em_log_likelihood_never_decreases():
    for data in (TOYS_1D["mixture"].sample(500, 0), TOYS["moons"].sample(800, 0), TOYS["ring8"].sample(800, 1)):
        fit = density.fit_gmm(data, 6, iters=60)
        assert np.all(np.diff(fit.history) >= -1e-9), fit.history


def test_flow_targets_within_0_2_nats_of_the_truth():
    for dataset, entry in CARD.datasets_2d.items():
        gap = entry.true_held_out_ll - entry.models["flow"].held_out_ll
        assert gap <= 0.2, f"{dataset}: the flow is {gap:.3f} nats below the true density"


def test_flows_sample_where_the_density_is():
    for dataset in CARD.datasets_2d:
        flow = density.TrainedDensity("flow", CARD.datasets_2d[dataset].models["flow"])
        samples = flow.sample(2000, seed=0)
        ll = TOYS[dataset].log_density(samples)
        held = TOYS[dataset].log_density(TOYS[dataset].sample(2000, 1))
        assert np.median(ll) > np.median(held) - 1.0


@pytest.mark.parametrize(
    "text,message",
    [
        ("1, 2, nan, 4, 5, 6, 7, 8, 9, 10, 11", "NaN"),
        ("1\n2\nthree\n4", "line 3"),
        ("1, 2, 3", "too few"),
        ("5\n" * 20, "same"),
    ],
)
def test_bad_user_values_are_explained(text, message):
    with pytest.raises(density.DataInputError, match=message):
        density.parse_values(text)
