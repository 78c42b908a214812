"""Diffusion and flows: the flow inverts and its log-determinant is the Jacobian's, the forward process has its
stated marginal, DDIM recovers x_0 from a perfect noise prediction, the bound is a bound, guidance matters."""

import math

import numpy as np
import pytest
import torch

from inference.cards import parse_model_card
from inference.diffusion import Diffusion
from training.models.ddpm import DDPM, DDPMConfig, betas
from training.models.realnvp import RealNVP, RealNVPConfig


def perturbed_flow(size: int = 8) -> RealNVP:
    """A small flow whose couplings are not the identity (they start so, zero-initialized)."""
    torch.manual_seed(0)
    flow = RealNVP(RealNVPConfig(image_size=size, hidden=8, blocks=1)).double()
    with torch.no_grad():
        for p in flow.parameters():
            p.add_(0.1 * torch.randn_like(p))
    return flow.eval()


def test_the_flow_inverts_exactly():
    flow = perturbed_flow()
    y = torch.rand(5, 1, 8, 8, dtype=torch.float64) * 0.9 + 0.05
    z, _ = flow.encode(y)
    assert z.shape == (5, 64)
    assert (flow.decode(z) - y).abs().max().item() < 1e-4
    assert (flow.decode(z) - y).abs().max().item() < 1e-10, "in float64 the inverse is exact to round-off"


def test_the_flow_log_determinant_is_the_jacobians():
    flow = perturbed_flow(size=4)
    y = torch.rand(1, 1, 4, 4, dtype=torch.float64) * 0.8 + 0.1
    jacobian = torch.autograd.functional.jacobian(lambda v: flow.encode(v.reshape(1, 1, 4, 4))[0][0], y.flatten())
    _, logdet = flow.encode(y)
    assert torch.linalg.slogdet(jacobian)[1].item() == pytest.approx(logdet.item(), abs=1e-8)


def test_the_forward_process_has_the_marginal_its_schedule_states():
    config = DDPMConfig(image_size=8, channels=(8, 8, 8), time_dim=16)
    model = DDPM(config)
    abar = np.cumprod(1 - betas(config))
    x0 = torch.full((20_000, 1, 8, 8), 0.6)
    for t in (0, 250, 999):
        xt = model.noisy(x0, torch.full((len(x0),), t), torch.randn_like(x0))
        assert xt.mean().item() == pytest.approx(math.sqrt(abar[t]) * 0.6, abs=5e-3)
        assert xt.var().item() == pytest.approx(1 - abar[t], rel=0.02, abs=1e-5)


class KnownNoise:
    """A stand-in denoiser that returns the noise an image was made with: a perfect prediction."""

    def __init__(self, eps):
        self.eps = eps

    def __call__(self, x, t, y):  # guidance stacks the conditional and the null-class batches: tile to match
        return {"eps": np.concatenate([self.eps] * (len(x) // len(self.eps))).astype(np.float32)}


def app_diffusion(eps) -> Diffusion:
    card = parse_model_card(
        {
            "name": "toy",
            "title": "toy",
            "architecture": "diffusion",
            "family": "diffusion",
            "density": "bound",
            "config": {"image_size": 8, "num_classes": 10, "timesteps": 1000, "beta_start": 1e-4, "beta_end": 0.02},
            "networks": {},
            "data": {},
            "training": {"seconds": 1, "epochs": 1},
        },
        "toy.json",
    )
    return Diffusion(card, {"denoiser": KnownNoise(eps)})


def test_one_ddim_step_from_a_known_x0_and_noise_recovers_x0():
    rng = np.random.default_rng(0)
    x0 = rng.uniform(-0.9, 0.9, (3, 1, 8, 8)).astype(np.float32)
    eps = rng.standard_normal(x0.shape).astype(np.float32)
    model = app_diffusion(eps)
    t = 999
    abar = model.alpha_bar[t]
    xt = (math.sqrt(abar) * x0 + math.sqrt(1 - abar) * eps).astype(np.float32)
    # the sampler's own update, from x_T = xt: one DDIM step lands on x0 exactly
    recovered = model.x0_hat(xt, t, model.eps(xt, t, np.zeros(3, int), 1.0))
    np.testing.assert_allclose(recovered, x0, atol=1e-4)
    seen = []
    model.sample(3, 0, steps=1, on_step=lambda i, n, x, x0_hat: seen.append(x0_hat))
    assert len(seen) == 1


def test_the_schedules_visit_the_steps_they_say():
    model = app_diffusion(np.zeros((1, 1, 8, 8)))
    assert list(model.schedule(1)) == [999], "one step goes from the noisiest"
    ddim = model.schedule(50)
    assert len(ddim) == 50 and ddim[0] == 999 and ddim[-1] == 0 and (np.diff(ddim) < 0).all()
    assert len(model.schedule(1000, "ddpm")) == 1000


def test_the_shipped_diffusion_model_guidance_and_bound():
    from inference import load_model, load_test_digits, scan

    if "ddpm" not in scan():
        pytest.skip("no shipped diffusion model")
    model = load_model("ddpm")
    labels = np.arange(4)
    plain = model.sample(4, 3, labels=labels, steps=5, guidance=1.0)
    guided = model.sample(4, 3, labels=labels, steps=5, guidance=4.0)
    assert plain.shape == (4, 28, 28) and 0 <= plain.min() and plain.max() <= 1
    assert np.abs(plain - guided).mean() > 0.01, "the guidance scale changes the samples"
    np.testing.assert_array_equal(plain, model.sample(4, 3, labels=labels, steps=5, guidance=1.0))
    x = load_test_digits().gray(np.arange(3))
    bound = -model.log_prob(x, terms=10)
    assert np.isfinite(bound).all() and (bound > 0).all(), "a bound on -log p(x) of 8-bit images, in nats"
