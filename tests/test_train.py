"""The training CLI end to end on tiny data: train, export, card, parity; determinism; torchrun."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch

from training.__main__ import main
from training.artifacts import sha256_of
from training.models import MODELS
from training.train import load_checkpoint

pytestmark = pytest.mark.slow  # see pyproject.toml: the inner loop is -m 'not slow'

REPO = Path(__file__).resolve().parent.parent
CARD_FIELDS = {
    "name", "title", "description", "architecture", "family", "density", "config", "data",
    "training", "metrics", "parameters", "networks", "opset", "versions", "exported",
}  # fmt: skip


@pytest.mark.parametrize("name", list(MODELS))
def test_cli_train_then_export(tmp_path, name):
    ck, ex = tmp_path / "ck", tmp_path / "ex"
    assert main(["train", name, "--data", "digits", "--epochs", "1", "--seed", "3", "--checkpoint-dir", str(ck)]) == 0
    assert main(["export", name, "--checkpoint-dir", str(ck), "--export-dir", str(ex), "--quick"]) == 0

    card = json.loads((ex / f"{name}.json").read_text())
    assert CARD_FIELDS <= card.keys()
    assert card["data"]["name"] == "digits" and card["data"]["image_size"] == 8
    assert card["training"]["epochs"] == 1 and card["training"]["seed"] == 3
    assert card["training"]["seconds"] >= 0
    assert card["versions"]["torch"].startswith("2.13")
    metrics = card["metrics"]
    if card["family"] == "latent-variable":
        assert metrics["nll_nats"] > 0 and metrics["iwae_k"] == 8
        assert -metrics["elbo_nats"] >= metrics["nll_nats"] - 1.0  # IWAE is the tighter bound
    if card["density"] in ("bound", "exact"):
        assert metrics["bits_per_dim"] == pytest.approx(metrics["nll_nats"] / (64 * np.log(2)))
    elif card["family"] == "autoencoder":
        assert metrics["recon_nats"] > 0 and len(metrics["code_mean"]) == card["config"]["z_dim"]
    elif card["family"] == "implicit":
        assert 0 <= metrics["d_test"] <= 1 and 0 <= metrics["d_samples"] <= 1
    elif card["family"] == "classifier":
        assert 0 <= metrics["test_accuracy"] <= 1

    model, _ = load_checkpoint(ck / f"{name}.pt")
    for role, net in model.networks().items():
        info = card["networks"][role]
        path = ex / info["file"]
        assert info["sha256"] == sha256_of(path)
        onnx.checker.check_model(onnx.load(str(path)))
        # A batch size the export never saw (it traced batch 2).
        inputs = tuple(torch.rand(5, *t.shape[1:]) for t in net.example_inputs)
        model.eval()
        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        got = session.run(None, {n: t.numpy() for n, t in zip(net.input_names, inputs, strict=True)})
        with torch.no_grad():
            want = net.module(*inputs)
        want = want if isinstance(want, tuple) else (want,)
        for g, w in zip(got, want, strict=True):
            np.testing.assert_allclose(g, w.numpy(), atol=1e-4)


def test_training_is_deterministic_for_a_seed(tmp_path):
    def weights(seed, folder):
        main(
            ["train", "vae", "--data", "digits", "--epochs", "1", "--seed", str(seed), "--checkpoint-dir", str(folder)]
        )
        return torch.load(folder / "vae.pt", weights_only=True)["state_dict"]

    a, b, c = weights(5, tmp_path / "a"), weights(5, tmp_path / "b"), weights(6, tmp_path / "c")
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not all(torch.equal(a[k], c[k]) for k in a)


def test_checkpoint_carries_its_config(tmp_path):
    main(["train", "vae2d", "--data", "digits", "--epochs", "1", "--checkpoint-dir", str(tmp_path)])
    ckpt = torch.load(tmp_path / "vae2d.pt", weights_only=True)
    assert ckpt["config"]["z_dim"] == 2 and ckpt["config"]["image_size"] == 8
    model, _ = load_checkpoint(tmp_path / "vae2d.pt")
    assert model.config.z_dim == 2


def test_cli_reports_missing_checkpoint(tmp_path, capsys):
    assert main(["export", "ae", "--checkpoint-dir", str(tmp_path), "--export-dir", str(tmp_path)]) == 1
    assert "no checkpoint" in capsys.readouterr().err


def test_cli_rejects_bad_data_spec():
    with pytest.raises(SystemExit):
        main(["train", "vae", "--data", "cifar"])


def test_torchrun_two_cpu_processes(tmp_path):
    """DistributedDataParallel with gloo: 2 processes, one tiny epoch, one checkpoint from rank 0."""
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [
        sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
        "-m", "training", "train", "vae", "--data", "digits", "--epochs", "1", "--device", "cpu",
        "--checkpoint-dir", str(tmp_path),
    ]  # fmt: skip
    result = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    ckpt = torch.load(tmp_path / "vae.pt", weights_only=True)
    assert ckpt["train"]["world_size"] == 2
    assert all(torch.isfinite(v).all() for v in ckpt["state_dict"].values())


class _SealedSplit:
    """A split that fails the moment anything reads it: what training sees in place of the test split."""

    def __getattr__(self, name):
        raise AssertionError(f"training or model selection read the test split (.{name})")

    def __len__(self):
        raise AssertionError("training or model selection read the test split (len)")


@pytest.fixture
def sealed_digits(monkeypatch):
    import dataclasses

    from training import data as data_lib

    sealed = dataclasses.replace(data_lib.load("digits"), test=_SealedSplit())
    monkeypatch.setattr(data_lib, "load", lambda spec="mnist5k": sealed)
    return sealed


@pytest.mark.parametrize("name", list(MODELS))
def test_training_and_selection_never_read_the_test_split(tmp_path, sealed_digits, name):
    """Every model trains, is validated every epoch and chooses between its candidate recipes with the
    test split sealed: any read of it fails. (The judge is trained first, so GANs are scored by it.)"""
    from training.train import train

    train("classifier", data="digits", epochs=1, checkpoint_dir=tmp_path, quiet=True)
    path = train(name, data="digits", epochs=2, checkpoint_dir=tmp_path, quiet=True)
    info = torch.load(path, weights_only=True)["train"]
    spec = MODELS[name]
    assert info["validation"]["figure"] == spec.select_on
    assert len(info["selection"]["candidates"]) == max(1, len(spec.candidates))
    scores = [c["best"][spec.select_on] for c in info["selection"]["candidates"]]
    assert np.isfinite(scores).all(), "every candidate was scored on validation"
    assert scores[info["selection"]["chosen"]] == min(scores), "the candidate kept is the best on validation"


def test_the_epoch_kept_is_the_best_on_validation(tmp_path):
    """The checkpoint holds the weights of the validated epoch with the lowest validation loss, and the
    loss of those weights, recomputed, is that figure."""
    from training import data as data_lib
    from training.models import get_spec
    from training.train import ValidationSet, train, validation_figures

    path = train("vae", data="digits", epochs=4, checkpoint_dir=tmp_path, quiet=True)
    ckpt = torch.load(path, weights_only=True)
    curve = ckpt["train"]["validation"]["curve"]
    assert [p["epoch"] for p in curve] == [1, 2, 3, 4]
    best = min(curve, key=lambda p: p["loss"])
    assert ckpt["train"]["validation"]["best_epoch"] == best["epoch"]
    model, _ = load_checkpoint(path)
    val = ValidationSet.of(data_lib.load("digits").validation, tmp_path, torch.device("cpu"))
    assert validation_figures(model, get_spec("vae"), val)["loss"] == pytest.approx(best["loss"], rel=1e-5)


@pytest.mark.parametrize(
    "name, dies_in",
    # one optimizer; two, and three candidates; dropout, whose draws must carry on where they stopped
    [
        ("vae", "vae.resume.pt"),
        ("dcgan", "dcgan.resume-1.pt"),
        ("pixelcnn_pp", "pixelcnn_pp.resume.pt"),
        ("pixelcnn_multiscale", "pixelcnn_multiscale.resume.pt"),
    ],
)
def test_a_broken_run_resumes_to_the_weights_of_an_unbroken_one(tmp_path, monkeypatch, name, dies_in):
    """Training stopped after the second epoch (of the second candidate, where there are several) and run
    again carries on from there: same weights and curves as a run that was never stopped, the resume files
    gone, and the card says where it resumed."""
    from training import train as train_lib

    whole = train_lib.train(name, data="digits", epochs=3, checkpoint_dir=tmp_path / "whole", quiet=True)

    real_save = train_lib.save_checkpoint

    def save_then_die(path, payload):
        real_save(path, payload)
        if path.name == dies_in and payload["epoch"] == 2:
            raise KeyboardInterrupt  # the session ends here

    monkeypatch.setattr(train_lib, "save_checkpoint", save_then_die)
    with pytest.raises(KeyboardInterrupt):
        train_lib.train(name, data="digits", epochs=3, checkpoint_dir=tmp_path / "broken", quiet=True)
    assert (tmp_path / "broken" / dies_in).is_file() and not (tmp_path / "broken" / f"{name}.pt").exists()
    monkeypatch.setattr(train_lib, "save_checkpoint", real_save)
    broken = train_lib.train(name, data="digits", epochs=3, checkpoint_dir=tmp_path / "broken", quiet=True)

    a, b = torch.load(whole, weights_only=True), torch.load(broken, weights_only=True)
    assert all(torch.equal(a["state_dict"][k], b["state_dict"][k]) for k in a["state_dict"])
    same = lambda x, y: json.dumps(x) == json.dumps(y)  # noqa: E731  (NaN, a figure with no judge, equals NaN)
    assert same(a["train"]["history"], b["train"]["history"])
    assert same(a["train"]["validation"]["curve"], b["train"]["validation"]["curve"])
    drop_time = lambda c: [{k: v for k, v in x.items() if k != "seconds"} for x in c]  # noqa: E731
    assert same(drop_time(a["train"]["selection"]["candidates"]), drop_time(b["train"]["selection"]["candidates"]))
    assert 2 in b["train"]["resumed_at_epochs"] and "resumed_at_epochs" not in a["train"]
    assert not list((tmp_path / "broken").glob("*.resume*"))


def test_a_resume_file_from_another_command_is_not_used(tmp_path):
    """A resume file left by another command (here: another seed) is ignored, not carried on from."""
    from training import train as train_lib

    torch.save({"fingerprint": {"seed": 99}, "epoch": 1}, tmp_path / "vae.resume.pt")
    path = train_lib.train("vae", data="digits", epochs=1, checkpoint_dir=tmp_path, quiet=True)
    assert "resumed_at_epochs" not in torch.load(path, weights_only=True)["train"]
