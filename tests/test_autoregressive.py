"""Autoregressive models: causality, no blind spot, exact NLL parity, fast-versus-full sampling."""

from pathlib import Path

import numpy as np
import pytest
import torch

from inference import load_model, load_test_digits
from inference.autoregressive import hidden_mask
from training.models import MODELS, get_spec
from training.train import load_checkpoint

REPO = Path(__file__).resolve().parent.parent
# binary chain-rule models (Bernoulli logits); the 8-bit ones have their own tests (test_pixelcnn_pp.py)
AUTOREGRESSIVE = [n for n, s in MODELS.items() if s.family == "autoregressive" and s.binarize]
POSITIONS = [(0, 5), (5, 27), (14, 14), (27, 0), (27, 27)]


def logits_of(model, x):
    if getattr(model, "conditional", False):
        return model(x, torch.eye(10, dtype=x.dtype)[torch.arange(len(x)) % 10])
    return model(x)


def input_gradient(model, i, j, seed=0):
    """|d logit(i, j) / d x| over the image, in float64 so no dependence rounds away."""
    torch.manual_seed(seed)
    x = torch.rand(1, 1, 28, 28, dtype=torch.float64).lt(0.3).double().requires_grad_(True)
    logits_of(model, x)[0, 0, i, j].backward()
    return x.grad[0, 0].abs().flatten()


@pytest.mark.slow
@pytest.mark.parametrize("name", AUTOREGRESSIVE)
def test_causality_in_pytorch(name):
    """The output for pixel (i, j) does not depend on any pixel at or after (i, j) in raster order."""
    torch.manual_seed(0)
    for model in (get_spec(name).build(28).double(), load_checkpoint(REPO / "checkpoints" / f"{name}.pt")[0].double()):
        for i, j in POSITIONS:
            grad = input_gradient(model, i, j)
            p = i * 28 + j
            assert (grad[p:] == 0).all(), f"{name}: logit ({i}, {j}) sees pixel {int(torch.nonzero(grad[p:])[0]) + p}"
            if p > 0:
                assert (grad[:p] > 0).any()


@pytest.mark.slow
def test_gated_pixelcnn_has_no_blind_spot():
    """The Gated PixelCNN's output depends on every earlier pixel; the plain PixelCNN's does not."""
    gated, _ = load_checkpoint(REPO / "checkpoints" / "gated_pixelcnn.pt")
    gated = gated.double()
    for i, j in POSITIONS:
        p = i * 28 + j
        grad = input_gradient(gated, i, j)
        blind = (grad[:p] == 0).nonzero().flatten().tolist()
        assert not blind, f"logit ({i}, {j}) is blind to earlier pixels {blind[:10]}"
    plain, _ = load_checkpoint(REPO / "checkpoints" / "pixelcnn.pt")
    grad = input_gradient(plain.double(), 14, 14)
    assert (grad[: 14 * 28 + 14] == 0).any(), "the plain PixelCNN should have a blind spot"


@pytest.mark.parametrize("name", AUTOREGRESSIVE)
def test_causality_in_onnx(name):
    """Changing every pixel at or after (i, j) leaves the exported model's logit for (i, j) unchanged."""
    model = load_model(name)
    rng = np.random.default_rng(0)
    base = load_test_digits().binary[:4].astype(np.float32)
    labels = np.arange(4) if model.conditional else None
    for i, j in POSITIONS:
        p = i * 28 + j
        changed = base.copy().reshape(4, -1)
        changed[:, p:] = rng.random((4, 784 - p)) < 0.5
        changed = changed.reshape(4, 28, 28)
        np.testing.assert_array_equal(model.logits(base, labels)[:, i, j], model.logits(changed, labels)[:, i, j])


@pytest.mark.slow
@pytest.mark.parametrize("name", AUTOREGRESSIVE)
def test_exact_nll_from_onnxruntime_equals_pytorch(name):
    torch_model, _ = load_checkpoint(REPO / "checkpoints" / f"{name}.pt")
    app_model = load_model(name)
    digits = load_test_digits()
    x = digits.binary[:100].astype(np.float32)
    xt = torch.tensor(x)[:, None]
    with torch.no_grad():
        if app_model.conditional:
            want = torch_model.marginal_log_prob(xt).numpy()
            want_y = torch_model.log_prob(xt, torch.tensor(digits.labels[:100])).numpy()
            np.testing.assert_allclose(app_model.log_prob(x, labels=digits.labels[:100]), want_y, atol=2e-3)
        else:
            want = torch_model.log_prob(xt).numpy()
    np.testing.assert_allclose(app_model.log_prob(x), want, atol=2e-3)
    # and the card's test NLL is the mean over the whole fixed binary test split
    full = -app_model.log_prob(digits.binary.astype(np.float32)).mean()
    assert full == pytest.approx(app_model.card.metrics.nll_nats, abs=0.01)


@pytest.mark.parametrize("name", AUTOREGRESSIVE)
def test_fast_sampler_logits_equal_the_full_network(name):
    """Along the fast sampler's own trajectory, its logits equal one pass of the full network."""
    model = load_model(name)
    labels = np.array([3, 7, 1]) if model.conditional else None
    samples, used = model.sample(3, seed=5, labels=labels, record_logits=True)
    full = model.logits(samples, labels)
    assert np.abs(used - full).max() <= 1e-4


@pytest.mark.parametrize("name", AUTOREGRESSIVE)
def test_samplers_are_deterministic_and_agree(name):
    model = load_model(name)
    labels = np.array([2, 8]) if model.conditional else None
    a = model.sample(2, seed=11, labels=labels)
    assert a.shape == (2, 28, 28) and set(np.unique(a)) <= {0.0, 1.0}
    np.testing.assert_array_equal(a, model.sample(2, seed=11, labels=labels))
    assert not np.array_equal(a, model.sample(2, seed=12, labels=labels))
    # the naive sampler draws the same uniforms: the same seed gives the same images
    np.testing.assert_array_equal(a, model.sample(2, seed=11, labels=labels, method="naive"))


def test_the_class_changes_what_the_conditional_model_samples():
    model = load_model("gated_pixelcnn")
    sevens = model.sample(8, seed=0, labels=np.full(8, 7))
    zeros = model.sample(8, seed=0, labels=np.full(8, 0))
    assert not np.array_equal(sevens, zeros)
    # each sample is likelier under the class it was drawn for than under the other
    assert (model.class_log_probs(sevens)[:, 7] > model.class_log_probs(sevens)[:, 0]).mean() >= 0.75
    assert (model.class_log_probs(zeros)[:, 0] > model.class_log_probs(zeros)[:, 7]).mean() >= 0.75


@pytest.mark.parametrize("kind", ["bottom", "right", "rows"])
def test_completion_keeps_the_visible_pixels(kind):
    model = load_model("pixelcnn")
    digit = load_test_digits().binary[7].astype(np.float32)
    hidden = hidden_mask(kind, 28, rows=6)
    filled = model.complete(digit, hidden, n=3, seed=0)
    assert filled.shape == (3, 28, 28)
    np.testing.assert_array_equal(filled[:, ~hidden], np.broadcast_to(digit[~hidden], (3, (~hidden).sum())))
    assert len({f[hidden].tobytes() for f in filled}) > 1, "different completions for different draws"


def test_completion_of_a_batch_is_each_image_completed_in_one_call():
    """Several digits completed at once keep each its own visible pixels, and a conditional model can be given
    one class per digit; an unconditional one refuses labels."""
    model = load_model("gated_pixelcnn")
    digits = load_test_digits()
    images = digits.binary[[3, 70, 140]].astype(np.float32)
    hidden = hidden_mask("bottom")
    filled = model.complete(images, hidden, seed=0, labels=digits.labels[[3, 70, 140]])
    assert filled.shape == (3, 28, 28)
    np.testing.assert_array_equal(filled[:, ~hidden], images[:, ~hidden])
    with pytest.raises(ValueError, match="not class-conditional"):
        load_model("pixelcnn").complete(images, hidden, labels=[1, 2, 3])


def test_gated_sampler_scratch_stays_small():
    """The Gated PixelCNN's fast sampler keeps each layer's vertical output unpadded: padded like its image (room for
    the widest dilated window), the six layers took 27 MB per image, 434 MB for 16 samples and 1.7 GB for the
    Sample page's 64, enough to end a hosted app."""
    import tracemalloc

    model = load_model("gated_pixelcnn")
    tracemalloc.start()
    try:
        model.sample(16, seed=0)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 50e6, f"{peak / 1e6:.0f} MB at its peak"
