"""The multi-scale PixelCNN: groups that see only what comes before them, an exact likelihood that is the sum of
every pixel's conditional, ONNX parity, and a sampler of 55 sequential steps."""

from pathlib import Path

import numpy as np
import pytest
import torch

from inference import load_model, load_test_digits
from inference.autoregressive import hidden_mask
from inference.multiscale import coarse_preview
from training.models import get_spec
from training.models.multiscale_pixelcnn import STAGES, Upsampler, interleave, lattices
from training.train import load_checkpoint

REPO = Path(__file__).resolve().parent.parent


def test_lattices_interleave_back_and_the_pyramid_subsamples():
    x = torch.randint(0, 256, (3, 1, 28, 28)).float() / 255
    parts = lattices(x)
    assert parts.shape == (3, 4, 14, 14)
    assert torch.equal(parts[:, 0], x[:, 0, ::2, ::2]) and torch.equal(parts[:, 3], x[:, 0, 1::2, 1::2])
    assert torch.equal(interleave(parts), x)
    model = get_spec("pixelcnn_multiscale").build(28)
    levels = model.pyramid(x)
    assert [t.shape[-1] for t in levels] == [7, 14, 28]
    assert torch.equal(levels[0], x[:, :, ::4, ::4])


@pytest.mark.parametrize("stage", [1, 2, 3])
def test_a_group_sees_only_the_groups_before_it(stage):
    """The upsampler's output for group g has zero gradient with respect to groups g, g + 1, ... and some with
    respect to each earlier one: whatever a caller puts in a later group cannot leak into the prediction."""
    torch.manual_seed(0)
    up = Upsampler(channels=16, blocks=2, mixtures=3, dropout=0.0).double().eval()
    parts = torch.rand(2, 4, 7, 7, dtype=torch.float64, requires_grad=True)
    one_hot = torch.eye(STAGES, dtype=torch.float64)[[stage - 1] * 2]
    up(parts, one_hot).sum().backward()
    seen = parts.grad.abs().sum(dim=(0, 2, 3))
    assert (seen[:stage] > 0).all() and (seen[stage:] == 0).all(), seen


def test_the_likelihood_is_the_sum_of_the_base_and_the_six_groups():
    torch.manual_seed(0)
    model = get_spec("pixelcnn_multiscale").build(28).double().eval()
    x = torch.randint(0, 256, (2, 1, 28, 28), dtype=torch.float64) / 255
    terms = model.log_prob_levels(x)
    assert terms.shape == (2, 7)
    assert torch.allclose(terms[:, 0], model.base.log_prob(x[:, :, ::4, ::4]))
    assert torch.allclose(terms.sum(1), model.log_prob(x))


def test_the_shipped_sampler_takes_55_steps_and_follows_the_networks():
    """Along its own trajectory the sampler's parameters equal one pass of ``outputs`` (every pixel given those
    before it in the coarse-to-fine order); the same seed gives the same images, another seed others."""
    model = load_model("pixelcnn_multiscale")
    assert model.sequential_steps == 7 * 7 + 3 + 3
    samples, used = model.sample(3, seed=5, record_logits=True)
    assert samples.shape == (3, 28, 28) and 0 <= samples.min() and samples.max() <= 1
    np.testing.assert_array_equal(np.rint(samples * 255), samples * 255)  # 8-bit levels
    assert np.abs(used - model.outputs(samples)).max() <= 1e-4
    np.testing.assert_array_equal(samples, model.sample(3, seed=5))
    assert not np.array_equal(samples, model.sample(3, seed=6))
    with pytest.raises(ValueError, match="one sampler"):
        model.sample(2, seed=0, method="naive")


def test_causality_in_onnx_in_its_own_order():
    """Changing every pixel not before (i, j) in the coarse-to-fine order (its own group included) leaves the
    exported model's distribution for (i, j) unchanged; changing those before it changes it."""
    model = load_model("pixelcnn_multiscale")
    rng = np.random.default_rng(0)
    base = load_test_digits().gray(np.arange(3))
    for i, j in [(0, 0), (4, 8), (0, 2), (2, 0), (2, 2), (0, 1), (1, 0), (13, 27), (27, 27)]:
        before = model.seen_before(i, j)
        later = base.copy()
        later[:, ~before] = rng.integers(0, 256, (3, int((~before).sum()))) / 255
        np.testing.assert_array_equal(model.outputs(base)[:, i, j], model.outputs(later)[:, i, j])
        if before.any():
            earlier = base.copy()
            earlier[:, before] = rng.integers(0, 256, (3, int(before.sum()))) / 255
            assert not np.array_equal(model.outputs(base)[:, i, j], model.outputs(earlier)[:, i, j])


def test_the_levels_fill_in_coarse_to_fine():
    """on_step reports the 7 base rows, then the three groups of 14 x 14 and of 28 x 28; each preview keeps what is
    drawn and the last one is the sample."""
    model = load_model("pixelcnn_multiscale")
    steps = []
    final = model.sample(
        2, seed=3, on_step=lambda what, done, total, preview: steps.append((what, done, total, preview))
    )
    assert [s[1] for s in steps] == list(range(1, 14)) and {s[2] for s in steps} == {13}
    assert steps[6][0].startswith("7 x 7") and steps[7][0].startswith("14 x 14, group 1")
    assert steps[-1][0].startswith("28 x 28, group 3")
    np.testing.assert_array_equal(steps[-1][3], final)
    np.testing.assert_array_equal(steps[6][3], np.repeat(np.repeat(final[:, ::4, ::4], 4, 1), 4, 2))  # 7 x 7 blocks


def test_coarse_preview_fills_from_the_nearest_coarser_pixel():
    images = np.arange(2 * 8 * 8, dtype=np.float32).reshape(2, 8, 8)
    drawn = np.zeros((8, 8), bool)
    drawn[::4, ::4] = True
    shown = coarse_preview(images, drawn)
    np.testing.assert_array_equal(shown[:, 1, 3], images[:, 0, 0])
    drawn[::2, ::2] = True
    shown = coarse_preview(images, drawn)
    np.testing.assert_array_equal(shown[:, 3, 3], images[:, 2, 2])
    np.testing.assert_array_equal(shown[:, 2, 2], images[:, 2, 2])


def test_log_prob_is_every_pixels_conditional_summed():
    model = load_model("pixelcnn_multiscale")
    x = load_test_digits().gray(np.arange(4))
    np.testing.assert_allclose(model.log_prob(x), -model.pixel_nll(x).reshape(4, -1).sum(1), rtol=1e-5)
    prediction = model.pixel_prediction(x[0], 13, 9)
    assert prediction["probs"].sum() == pytest.approx(1.0, abs=1e-9)


@pytest.mark.slow
def test_exact_nll_from_onnxruntime_equals_pytorch():
    torch_model, _ = load_checkpoint(REPO / "checkpoints" / "pixelcnn_multiscale.pt")
    app_model = load_model("pixelcnn_multiscale")
    x = load_test_digits().gray(np.arange(100))
    with torch.no_grad():
        want = torch_model.double().log_prob(torch.tensor(x, dtype=torch.float64)[:, None]).numpy()
    np.testing.assert_allclose(app_model.log_prob(x), want, atol=2e-2)
    digits = load_test_digits()
    full = -app_model.log_prob(digits.gray(np.arange(len(digits)))).mean()
    assert full == pytest.approx(app_model.card.metrics.nll_nats, abs=0.01)


@pytest.mark.parametrize("kind", ["bottom", "right"])
def test_completion_keeps_the_visible_grey_levels(kind):
    model = load_model("pixelcnn_multiscale")
    x = load_test_digits().gray(7)
    hidden = hidden_mask(kind)
    done = model.complete(x, hidden, n=2, seed=1)
    np.testing.assert_array_equal(done[:, ~hidden], np.broadcast_to(x[~hidden], (2, int((~hidden).sum()))))
    assert not np.array_equal(done[0][hidden], done[1][hidden])


def test_a_completion_skips_the_base_pixels_every_image_keeps_and_draws_the_same(record_calls):
    """Base pixels (and whole groups) that every image keeps cost no network call; the completion is the one drawn
    when every step runs (as it does when recording the parameters it used)."""
    model = load_model("pixelcnn_multiscale")
    x = load_test_digits().gray(np.array([7, 12]))
    hidden = hidden_mask("bottom")
    calls = record_calls(model.networks, "base")
    skipped = model.complete(x, hidden, seed=2)
    size = model.sizes[0]
    assert len(calls) == hidden[:: 28 // size, :: 28 // size].sum() < size * size
    visited, _ = model.sample(2, 2, known=x, known_mask=~hidden, record_logits=True)
    np.testing.assert_array_equal(skipped, visited)


def test_fewer_steps_cost_likelihood():
    """The trade-off the model is here to show, recomputed through the shipped files on the 8-bit test digits: a
    worse NLL than PixelCNN++'s full raster order."""
    x = load_test_digits().gray(np.arange(100))
    multiscale = -load_model("pixelcnn_multiscale").log_prob(x).mean()
    raster = -load_model("pixelcnn_pp").log_prob(x).mean()
    assert multiscale > raster
