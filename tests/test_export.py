"""The shipped models: each ONNX file matches the PyTorch checkpoint it came from, and its card."""

import json
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch

from training import export as export_lib
from training.artifacts import sha256_of
from training.train import load_checkpoint

REPO = Path(__file__).resolve().parent.parent
EXPORTED = REPO / "exported"
CARDS = sorted(p for p in EXPORTED.glob("*.json") if "networks" in json.loads(p.read_text()))


def test_models_are_shipped():
    assert {p.stem for p in CARDS} >= {"ae", "vae", "vae2d"}
    assert (EXPORTED / export_lib.DEMO_DATA_FILE).is_file()


@pytest.mark.parametrize("card_path", CARDS, ids=lambda p: p.stem)
def test_onnx_matches_pytorch_on_an_unseen_batch_size(card_path):
    card = json.loads(card_path.read_text())
    model, ckpt = load_checkpoint(REPO / "checkpoints" / f"{card['name']}.pt")
    assert ckpt["config"] == card["config"]
    torch.manual_seed(0)
    for role, net in model.networks().items():
        info = card["networks"][role]
        path = EXPORTED / info["file"]
        assert sha256_of(path) == info["sha256"], f"{path.name} differs from its card"
        onnx.checker.check_model(onnx.load(str(path)), full_check=True)
        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        assert [i.name for i in session.get_inputs()] == [i["name"] for i in info["inputs"]]
        for batch in (1, 7):  # the export traced batch 2
            inputs = tuple(torch.rand(batch, *t.shape[1:]) for t in net.example_inputs)
            if role == "encoder" and card["family"] != "flow":  # binary digits; a flow encodes 8-bit intensities
                inputs = tuple(x.bernoulli() for x in inputs)
            got = session.run(None, {n: x.numpy() for n, x in zip(net.input_names, inputs, strict=True)})
            with torch.no_grad():
                want = net.module(*inputs)
            want = want if isinstance(want, tuple) else (want,)
            for g, w in zip(got, want, strict=True):
                # 1e-4 absolute, plus float32 round-off for outputs far from zero (a discriminator
                # shown noise gives logits near -50, where 1e-4 is 2 ulp-scale relative error)
                np.testing.assert_allclose(g, w.numpy(), atol=1e-4, rtol=1e-5)


@pytest.mark.parametrize("card_path", CARDS, ids=lambda p: p.stem)
def test_card_carries_the_figures(card_path):
    card = json.loads(card_path.read_text())
    assert card["data"]["name"] == "mnist5k" and card["data"]["test_size"] == 500 and card["data"]["limit"] is None
    assert card["training"]["seconds"] > 0 and card["training"]["epochs"] >= 1
    assert card["opset"] == export_lib.OPSET
    m = card["metrics"]
    if card["density"] == "bound" and card["family"] == "latent-variable":  # the VAEs' importance-weighted bound
        assert m["iwae_k"] >= 200
        assert m["nll_nats"] <= -m["elbo_nats"]
    if card["density"] != "none" and m.get("nll_nats") is not None:
        assert m["bits_per_dim"] == pytest.approx(m["nll_nats"] / (784 * np.log(2)))


def test_demo_data_names_agree():
    from inference import data as app_data

    assert app_data.DEMO_DATA_FILE == export_lib.DEMO_DATA_FILE
