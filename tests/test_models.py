"""Model shapes, losses that learn, and the VAE's bounds."""

import pytest
import torch
import torch.nn.functional as F

from training.models import MODELS, get_spec
from training.models.vae import VAE, VAEConfig

LATENT = [n for n, s in MODELS.items() if s.family in ("autoencoder", "latent-variable")]
# binary chain-rule models (Bernoulli logits); the 8-bit ones have their own tests (test_pixelcnn_pp.py)
AUTOREGRESSIVE = [n for n, s in MODELS.items() if s.family == "autoregressive" and s.binarize]


GANS = [n for n, s in MODELS.items() if s.family == "implicit"]
SINGLE_LOSS = [n for n, s in MODELS.items() if not hasattr(s.model, "train_step")]  # the trainer steps them


def loss_of(model, x):
    if getattr(model, "uses_labels", False):
        return model.loss(x, torch.arange(len(x)) % 10)
    return model.loss(x)


def assert_every_network_runs(model):
    """Each exported network runs on its example inputs and gives one output per output name."""
    for role, net in model.networks().items():
        out = net.module(*net.example_inputs)
        out = out if isinstance(out, tuple) else (out,)
        assert len(out) == len(net.output_names), role


@pytest.mark.parametrize("name", AUTOREGRESSIVE)
@pytest.mark.parametrize("size", [28, 8])
def test_autoregressive_shapes(name, size):
    torch.manual_seed(0)
    model = get_spec(name).build(size)
    x = torch.rand(3, 1, size, size).bernoulli()
    args = (x, torch.eye(10)[:3]) if getattr(model, "conditional", False) else (x,)
    assert model(*args).shape == (3, 1, size, size)
    assert_every_network_runs(model)


@pytest.mark.parametrize("name", LATENT)
@pytest.mark.parametrize("size", [28, 8])
def test_network_shapes(name, size):
    torch.manual_seed(0)
    model = get_spec(name).build(size)
    x = torch.rand(3, 1, size, size).bernoulli()
    z_dim = model.config.z_dim
    code = model.encode(x)
    code = code[0] if isinstance(code, tuple) else code
    assert code.shape == (3, z_dim)
    assert model.decode(code).shape == (3, 1, size, size)
    assert_every_network_runs(model)


@pytest.mark.parametrize("name", SINGLE_LOSS)
def test_one_optimizer_step_lowers_the_loss_on_a_fixed_batch(name):
    torch.manual_seed(0)
    model = get_spec(name).build(28)
    x = torch.rand(16, 1, 28, 28).lt(0.2).float()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)

    def loss():
        torch.manual_seed(1)  # the same reparameterization noise before and after the step
        return loss_of(model, x)

    before = loss()
    assert {"loss"} <= before.keys()
    assert all(torch.isfinite(v) for v in before.values())
    opt.zero_grad()
    before["loss"].backward()
    opt.step()
    assert loss()["loss"].item() < before["loss"].item()


def test_vae_loss_terms_are_the_elbo_computed_another_way():
    """The VAE's loss terms against torch.distributions: the KL of N(mu, sigma^2) from N(0, 1), and the
    Bernoulli log-likelihood of the image under the decoder at the same reparameterized sample."""
    from torch.distributions import Bernoulli, Normal, kl_divergence

    torch.manual_seed(0)
    model = VAE(VAEConfig())
    x = torch.rand(8, 1, 28, 28).bernoulli()
    torch.manual_seed(1)
    terms = model.loss(x)
    mu, logvar = model.encode(x)
    q = Normal(mu, (0.5 * logvar).exp())
    torch.manual_seed(1)
    z = mu + torch.randn_like(mu) * q.scale  # the draw the loss made
    log_px_z = Bernoulli(logits=model.decode(z)).log_prob(x).flatten(1).sum(1)
    torch.testing.assert_close(terms["kl"], kl_divergence(q, Normal(0.0, 1.0)).sum(1).mean())
    torch.testing.assert_close(terms["recon"], -log_px_z.mean())
    torch.testing.assert_close(terms["loss"], terms["recon"] + terms["kl"])


def test_iwae_bound_tightens_with_k():
    """IWAE with k samples is a lower bound on log p(x) that rises with k (Burda et al. 2016)."""
    torch.manual_seed(0)
    model = VAE(VAEConfig(z_dim=4)).eval()
    x = torch.rand(32, 1, 28, 28).lt(0.15).float()
    with torch.no_grad():
        elbo = torch.stack([model.elbo(x) for _ in range(20)]).mean()
        iwae_1 = torch.stack([model.iwae_bound(x, k=1) for _ in range(20)]).mean()
        iwae_100 = model.iwae_bound(x, k=100).mean()
    # k = 1 is the ELBO up to using a sampled instead of an analytic KL
    assert abs(iwae_1 - elbo) < 0.03 * abs(elbo)
    assert iwae_100 > elbo


@pytest.mark.parametrize("name", GANS)
def test_a_discriminator_step_lowers_its_loss_and_the_generator_learns(name):
    torch.manual_seed(0)
    gan = get_spec(name).build(28)
    opt = gan.optimizers(2e-4)
    x = torch.rand(16, 1, 28, 28)
    labels = torch.arange(16) % 10
    y = gan.one_hot(labels)
    fake = gan.generator(torch.randn(16, gan.config.z_dim), y).detach()

    def d_loss():
        return (F.softplus(-gan.discriminator(x, y)).mean() + F.softplus(gan.discriminator(fake, y)).mean()).item()

    before = d_loss()
    g_before = [p.detach().clone() for p in gan.generator.parameters()]
    terms = gan.train_step(x, labels, opt, lambda module: None)
    assert all(torch.isfinite(v) for v in terms.values())
    assert d_loss() < before, "the discriminator got better at telling this batch apart"
    assert any(not torch.equal(a, b) for a, b in zip(g_before, gan.generator.parameters(), strict=True)), (
        "the generator moved"
    )


def test_the_r1_penalty_keeps_the_discriminator_flat_at_the_real_data():
    """R1 (gamma / 2 |grad_x D(x)|^2 on real images) is what let the DCGAN beat the VAE here."""
    from training.models.dcgan import DCGAN, DCGANConfig

    x = torch.rand(32, 1, 28, 28)

    def slope_after_training(gamma: float) -> float:
        torch.manual_seed(0)
        gan = DCGAN(DCGANConfig(r1_gamma=gamma))
        opt = gan.optimizers(1e-3)
        for _ in range(20):
            terms = gan.train_step(x, torch.zeros(32), opt, lambda module: None)
        assert ("R1" in terms) == (gamma > 0) and all(torch.isfinite(v) for v in terms.values())
        real = x.clone().requires_grad_(True)
        (grad,) = torch.autograd.grad(gan.discriminator(real).sum(), real)
        return grad.square().flatten(1).sum(1).mean().item()

    assert slope_after_training(10.0) < 0.5 * slope_after_training(0.0)


def test_a_diffusion_step_lowers_its_loss_at_fixed_noise_and_moves_the_average():
    """One training step of the DDPM lowers its noise-prediction loss on a fixed batch (same t, same noise), and
    the exported weight average follows the trained weights a little."""
    from training.models.ddpm import DDPM, DDPMConfig

    torch.manual_seed(0)
    model = DDPM(DDPMConfig(image_size=8, channels=(8, 8, 16), time_dim=16, dropout=0.0))
    x, labels = torch.rand(32, 1, 8, 8), torch.arange(32) % 10
    opt = model.optimizers(1e-2)

    def loss():
        return model.loss_terms(x, labels, model.denoiser, torch.Generator().manual_seed(1))["loss"].item()

    before, average = loss(), [p.clone() for p in model.denoiser_ema.parameters()]
    model.train_step(x, labels, opt, lambda module: None)
    assert loss() < before
    assert any(not torch.equal(a, p) for a, p in zip(average, model.denoiser_ema.parameters(), strict=True))
