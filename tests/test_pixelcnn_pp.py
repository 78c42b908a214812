"""The 8-bit autoregressive models (PixelCNN++ and its softmax twin): causality, an exact and normalized
likelihood, ONNX parity, the row-cached sampler against the full network, and what the app shows of a pixel."""

from pathlib import Path

import numpy as np
import pytest
import torch

from inference import load_model, load_test_digits
from inference.autoregressive import hidden_mask
from inference.pixelcnn_pp import logistic_mixture_log_mass
from training.models import MODELS, get_spec
from training.models.pixelcnn_pp import discretized_logistic_mixture_log_prob
from training.train import load_checkpoint

REPO = Path(__file__).resolve().parent.parent
# PixelCNN++ and its softmax twin (the multi-scale model has its own tests: tests/test_multiscale.py)
EIGHT_BIT = [n for n, s in MODELS.items() if s.architecture == "pixelcnn_pp"]
POSITIONS = [(0, 5), (5, 27), (14, 14), (27, 0), (27, 27)]


def test_both_eight_bit_models_are_registered():
    assert {MODELS[n].config["likelihood"] for n in EIGHT_BIT} == {"logistic_mixture", "softmax"}


def input_gradient(model, i, j, seed=0, context_only=False):
    """|d output(i, j) / d x| over the image (every output channel), in float64."""
    torch.manual_seed(seed)
    x = torch.randint(0, 256, (1, 1, 28, 28), dtype=torch.float64).div(255).requires_grad_(True)
    out = model.context(x) if context_only else model(x)
    out[0, :, i, j].sum().backward()
    return x.grad[0, 0].abs().flatten()


@pytest.mark.slow
@pytest.mark.parametrize("name", EIGHT_BIT)
def test_causality_in_pytorch(name):
    """Pixel (i, j)'s distribution depends on no pixel at or after it in raster order, and on some before it;
    the context stream at row i on rows above it only. Untrained and trained weights."""
    for model in (get_spec(name).build(28), load_checkpoint(REPO / "checkpoints" / f"{name}.pt")[0]):
        model = model.double().eval()
        for i, j in POSITIONS:
            p = i * 28 + j
            grad = input_gradient(model, i, j)
            assert (grad[p:] == 0).all(), f"{name}: ({i}, {j}) sees pixel {int(torch.nonzero(grad[p:])[0]) + p}"
            if p:
                assert (grad[:p] > 0).any()
            above = input_gradient(model, i, j, context_only=True)
            assert (above[i * 28 :] == 0).all(), f"{name}: the context of row {i} sees row {i} or below"


def test_no_blind_spot_in_the_receptive_field():
    """What a pixel sees has no holes (the plain PixelCNN's blind spot above and to the right): every row at least
    two above is seen whole, through the 14 x 14 and 7 x 7 levels; the row just above is seen around the pixel
    (at least 4 columns either side), and its own row in one run up to the pixel to its left."""
    model = get_spec("pixelcnn_pp").build(28).double().eval()
    for i, j in [(5, 0), (14, 14), (27, 27), (20, 3), (9, 25)]:
        seen = input_gradient(model, i, j).reshape(28, 28).numpy() > 0
        assert seen[: i - 1].all(), f"({i}, {j}) is blind to {np.argwhere(~seen[: i - 1])[:5].tolist()}"
        above = np.flatnonzero(seen[i - 1])
        assert above.min() <= max(j - 4, 0) and above.max() >= min(j + 4, 27)
        assert len(above) == above.max() - above.min() + 1, f"a hole in row {i - 1}"
        left = np.flatnonzero(seen[i])
        if j:
            assert left.max() == j - 1 and len(left) == left.max() - left.min() + 1 and len(left) >= min(j, 20)


def test_the_discretized_logistic_mixture_is_a_distribution_over_256_levels():
    """Masses of the 256 levels sum to one whatever the parameters, including very narrow and very wide
    logistics and means far outside [-1, 1]; and the app's numpy version agrees with training's."""
    torch.manual_seed(0)
    K = 5
    params = (
        torch.randn(4, 3 * K, 3, 3, dtype=torch.float64)
        * torch.tensor([3.0] * K + [2.0] * K + [4.0] * K)[:, None, None].double()
    )
    levels = torch.arange(256).reshape(256, 1, 1, 1, 1).expand(256, 4, 1, 3, 3)
    log_mass = torch.stack([discretized_logistic_mixture_log_prob(params, v) for v in levels])  # (256, 4, 3, 3)
    np.testing.assert_allclose(log_mass.exp().sum(0).numpy(), 1.0, atol=1e-9)
    flat = params.permute(0, 2, 3, 1).reshape(-1, 3 * K).numpy()  # (36, 3K), pixels in (b, i, j) order
    ours = logistic_mixture_log_mass(flat, np.arange(256))  # (36, 256)
    np.testing.assert_allclose(ours, log_mass.permute(1, 2, 3, 0).reshape(-1, 256).numpy(), atol=1e-9)


@pytest.mark.parametrize("name", EIGHT_BIT)
def test_causality_in_onnx(name):
    """Changing every pixel at or after (i, j) leaves the exported model's distribution at (i, j) unchanged."""
    model = load_model(name)
    rng = np.random.default_rng(0)
    base = load_test_digits().gray(np.arange(3))
    for i, j in POSITIONS:
        p = i * 28 + j
        changed = base.copy().reshape(3, -1)
        changed[:, p:] = rng.integers(0, 256, (3, 784 - p)) / 255
        changed = changed.reshape(3, 28, 28)
        np.testing.assert_array_equal(model.outputs(base)[:, i, j], model.outputs(changed)[:, i, j])


@pytest.mark.slow
@pytest.mark.parametrize("name", EIGHT_BIT)
def test_exact_nll_from_onnxruntime_equals_pytorch(name):
    torch_model, _ = load_checkpoint(REPO / "checkpoints" / f"{name}.pt")
    app_model = load_model(name)
    digits = load_test_digits()
    x = digits.gray(np.arange(100))
    with torch.no_grad():
        want = torch_model.eval().log_prob(torch.tensor(x)[:, None]).double().numpy()
    np.testing.assert_allclose(app_model.log_prob(x), want, atol=5e-3)
    # the card's figure is of the 8-bit track, the mean over the whole test split
    card = app_model.card.metrics
    assert card.likelihood_track == "8-bit"
    full = -app_model.log_prob(digits.gray(np.arange(len(digits)))).mean()
    assert full == pytest.approx(card.nll_nats, abs=0.01)
    assert card.bits_per_dim == pytest.approx(card.nll_nats / (784 * np.log(2)))


@pytest.mark.parametrize("name", EIGHT_BIT)
def test_fast_sampler_follows_the_full_network(name):
    """Along the row-cached sampler's own trajectory, its parameters equal one pass of the full network, and its
    images are 8-bit, the same for a seed and different for another."""
    model = load_model(name)
    samples, used = model.sample(3, seed=5, record_logits=True)
    assert used.shape[:3] == (3, 28, 28)
    assert np.abs(used - model.outputs(samples)).max() <= 1e-4
    levels = samples * 255
    np.testing.assert_allclose(levels, np.rint(levels), atol=1e-4)
    assert 0 <= samples.min() and samples.max() <= 1
    np.testing.assert_array_equal(samples, model.sample(3, seed=5))
    assert not np.array_equal(samples, model.sample(3, seed=6))


@pytest.mark.slow
@pytest.mark.parametrize("name", EIGHT_BIT)
def test_naive_and_fast_samplers_draw_the_same_image(name):
    model = load_model(name)
    np.testing.assert_array_equal(model.sample(1, seed=3), model.sample(1, seed=3, method="naive"))


def test_draw_is_an_inverse_cdf_and_temperature_sharpens():
    """Drawing with evenly spaced uniforms reproduces the pixel's distribution; a low temperature picks its mode."""
    model = load_model("pixelcnn_pp")
    params = model.outputs(load_test_digits().gray(np.arange(1)))[0, 12, 14][None]  # a pixel near a stroke
    probs = model.distribution(params)[0]
    u = (np.arange(20_000) + 0.5) / 20_000
    drawn = np.rint(model.draw(np.repeat(params, len(u), 0), u, 1.0) * 255).astype(int)
    np.testing.assert_allclose(np.bincount(drawn, minlength=256) / len(u), probs, atol=1e-3)
    cold = np.rint(model.draw(np.repeat(params, 50, 0), np.linspace(0.01, 0.99, 50), 0.05) * 255)
    assert (cold == np.argmax(probs)).all()


@pytest.mark.parametrize("name", EIGHT_BIT)
def test_one_pixels_prediction_is_what_the_likelihood_sums(name):
    """The One pixel page's distribution sums to one, its probability of the true level is exp(-surprise) of the
    Likelihood page's map at that pixel, and a mixture's components add up to it."""
    model = load_model(name)
    x = load_test_digits().gray(7)
    nll_map = model.pixel_nll(x[None])[0]
    for i, j in [(0, 0), (10, 14), (20, 9)]:
        pred = model.pixel_prediction(x, i, j)
        assert pred["probs"].shape == (256,) and pred["probs"].sum() == pytest.approx(1.0, abs=1e-9)
        level = int(round(x[i, j] * 255))
        assert pred["probs"][level] == pytest.approx(np.exp(-nll_map[i, j]), rel=1e-3)
        if model.likelihood == "logistic_mixture":
            assert len(pred["weights"]) == model.mixtures == int(model.card.config["mixtures"])
            np.testing.assert_allclose(pred["components"].sum(0), pred["probs"], atol=1e-9)
            assert pred["weights"].sum() == pytest.approx(1.0)
        else:
            assert "components" not in pred


@pytest.mark.parametrize("kind", ["bottom", "right"])
def test_completion_keeps_the_visible_grey_levels(kind):
    model = load_model("pixelcnn_pp")
    x = load_test_digits().gray(3)
    mask = hidden_mask(kind)
    filled = model.complete(x, mask, 2, seed=0)
    assert filled.shape == (2, 28, 28)
    np.testing.assert_array_equal(filled[:, ~mask], np.broadcast_to(x[~mask], (2, (~mask).sum())))
    assert not np.array_equal(filled[0][mask], filled[1][mask]), "two completions, two draws"


@pytest.mark.parametrize("kind", ["bottom", "right", "rows"])
def test_a_completion_skips_the_kept_pixels_and_draws_the_same(kind, record_calls):
    """The row-cached sampler skips the pixels every image keeps (no call for them): the completion is the one it
    draws when it visits every pixel (as it does when recording the parameters it used)."""
    model = load_model("pixelcnn_pp")
    x = load_test_digits().gray(np.array([3, 9]))
    mask = hidden_mask(kind, 28, 6)
    calls = record_calls(model.networks, "pixel_step")
    skipped = model.complete(x, mask, seed=4)
    assert len(calls) == mask.sum(), "one row-stream call per hidden pixel"
    visited, _ = model.sample(2, 4, known=x, known_mask=~mask, record_logits=True)
    np.testing.assert_array_equal(skipped, visited)


@pytest.mark.parametrize("name", EIGHT_BIT)
def test_each_sampler_call_reads_only_what_its_pixel_depends_on(name, record_calls):
    """The context of row i from the rows down to i (to a multiple of 4, for the 7 x 7 level), the row stream from
    the row_reach columns before the pixel: in all about half of what whole images and whole rows would cost (the
    sampler's images are checked against the full network in test_fast_sampler_follows_the_full_network)."""
    model = load_model(name)
    context, rows = record_calls(model.networks, "context"), record_calls(model.networks, "pixel_step")
    model.sample(2, seed=1)
    reach = get_spec(name).build(28).row_reach
    assert [a[0].shape[2] for a in context] == [min(28, (i // 4 + 1) * 4) for i in range(28)]
    widths = [a[0].shape[3] for a in rows]
    assert widths == [min(j, reach) + 1 for _ in range(28) for j in range(28)]
    assert all(a[1].shape[3] == w for a, w in zip(rows, widths, strict=True)), "context windows as wide"
    assert np.mean(widths) < 15


@pytest.mark.parametrize("name", EIGHT_BIT)
def test_the_sampler_on_whole_images_and_rows_draws_the_same(name, record_calls):
    """What the sampler does with an older export, whose networks take 28 rows and columns only (and the baseline of
    benchmarks/sampling.py): every call on whole images and rows, the same images."""
    model = load_model(name)
    windowed = model.sample(2, seed=7)
    model.windows = False
    rows = record_calls(model.networks, "pixel_step")
    np.testing.assert_array_equal(model.sample(2, seed=7), windowed)
    assert {a[0].shape[3] for a in rows} == {28}


def test_the_row_reach_is_what_a_pixel_reads_of_its_row():
    """A window of row_reach columns before a pixel gives the row stream's output at the pixel exactly (random
    weights, float64: a fresh model's blocks start as the identity), and one column fewer does not: the sampler's
    windows are neither short nor long."""
    torch.manual_seed(0)
    model = get_spec("pixelcnn_pp").build(28).double().eval()
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0, 0.2)
    x, context = torch.rand(2, 1, 1, 28, dtype=torch.float64), torch.randn(2, 32, 1, 28, dtype=torch.float64)
    with torch.no_grad():
        whole = model.row_params(x, context)
        for j in (21, 24, 27):
            for reach, same in ((model.row_reach, True), (model.row_reach - 1, False)):
                lo = j - reach
                window = model.row_params(x[..., lo : j + 1], context[..., lo : j + 1])[..., -1]
                assert torch.allclose(window, whole[..., j], atol=1e-12) == same, (j, reach)


def test_the_most_uncertain_pixel_has_the_most_entropy():
    """The One pixel page opens there: no pixel's prediction, read one at a time, has more entropy."""
    model = load_model("pixelcnn_pp")
    x = load_test_digits().gray(11)
    i, j = model.most_uncertain_pixel(x)

    def entropy(r, c):
        p = model.pixel_prediction(x, r, c)["probs"]
        return float(-(p * np.log(np.maximum(p, 1e-300))).sum())

    best = entropy(i, j)
    assert best > 1.0, "a stroke's edge, not the background"
    assert all(entropy(r, c) <= best + 1e-9 for r in range(0, 28, 3) for c in range(0, 28, 3))
