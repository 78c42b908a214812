"""The few-label study: balanced reproducible subsets, its card, ONNX parity, the targets."""

from pathlib import Path

import numpy as np
import pytest
import torch
from streamlit.testing.v1 import AppTest

from inference import load_test_digits
from inference.features import classify, load_classifiers, load_study
from training.__main__ import main
from training.studies.features import METHODS, balanced_subset

REPO = Path(__file__).resolve().parent.parent


def test_label_subsets_are_balanced_and_reproducible():
    labels = np.repeat(np.arange(10), 450)
    for count in (10, 50, 100, 500):
        idx = balanced_subset(labels, count, seed=3)
        assert len(idx) == count and len(set(idx)) == count
        assert np.bincount(labels[idx], minlength=10).tolist() == [count // 10] * 10
        np.testing.assert_array_equal(idx, balanced_subset(labels, count, seed=3))
        assert not np.array_equal(idx, balanced_subset(labels, count, seed=4))
    assert len(balanced_subset(labels, 4500, seed=0)) == 4500
    with pytest.raises(ValueError):
        balanced_subset(labels, 15, seed=0)


@pytest.mark.slow
def test_the_study_on_tiny_data_writes_every_field(tmp_path):
    ck, ex = tmp_path / "ck", tmp_path / "ex"
    for model in ("ae", "vae"):
        assert main(["train", model, "--data", "digits", "--epochs", "1", "--checkpoint-dir", str(ck)]) == 0
    args = ["features", "--data", "digits", "--checkpoint-dir", str(ck), "--export-dir", str(ex)]
    assert main([*args, "--labels", "10", "50", "--seeds", "2", "--steps", "3"]) == 0
    card = load_study(ex)  # parsed and checked as the app reads it: every field present and typed
    assert len(card.results) == 2 * 2 * len(METHODS)
    assert {row["method"] for row in card.table} == set(METHODS)
    assert set(card.classifiers) == set(METHODS)
    assert card.headline["labels"] == 10 and card.headline["best_pretrained"] in METHODS
    nets, problems = load_classifiers(card, ex)
    assert not problems and set(nets) == set(METHODS)


def test_exported_classifiers_match_pytorch():
    """Each shipped classifier's ONNX file gives the logits of the PyTorch model it was exported from."""
    from training.studies.features import build
    from training.train import load_checkpoint

    card = load_study()
    nets, problems = load_classifiers(card)
    assert not problems
    ae, _ = load_checkpoint(REPO / "checkpoints" / "ae.pt")
    vae, _ = load_checkpoint(REPO / "checkpoints" / "vae.pt")
    test = torch.tensor(load_test_digits().binary[:7], dtype=torch.float32)[:, None]
    for method, info in card.classifiers.items():
        model = build(method, ae, vae, 28, info.seed)
        state = torch.load(REPO / "checkpoints" / "features" / f"{method}.pt", map_location="cpu", weights_only=True)
        model.load_state_dict(state)
        with torch.no_grad():
            want = model.eval()(test).numpy()
        got = nets[method](test.numpy())["logits"]
        np.testing.assert_allclose(got, want, atol=1e-4, err_msg=method)
    for net in nets.values():  # and every file runs, batch sizes it never saw included
        out = net(np.zeros((5, 1, 28, 28), np.float32))["logits"]
        assert out.shape == (5, 10)
        p = classify(net, load_test_digits().binary[0])
        assert p.shape == (10,) and abs(p.sum() - 1) < 1e-5


def test_the_headline_target_or_its_explanation():
    card = load_study()
    head = card.headline
    assert head["labels"] == 100
    # The target: the best pretrained method beats raw pixels by 5 points with 100 labels, or the
    # page explains, with the figures, why it does not.
    if head["gain_points"] >= 5.0:
        return
    at = AppTest.from_file(str(REPO / "streamlit_app.py"), default_timeout=120).run()
    at.switch_page("app_pages/features.py").run()
    assert not at.exception
    why = [box.value for box in at.info if "Why the gain is small" in box.value]
    assert why, "the page must explain a gain below 5 points"
    assert f"{head['gain_points']:.1f} points" in why[0] and f"{100 * head['pixels']:.1f}%" in why[0]
