"""Density estimation on toy data: every 2-D model per toy set, and a 1-D flow per 1-D set.

``python -m training density`` trains and exports, for each 2-D toy set of inference/toy.py:

* a Gaussian mixture (EM, exact density),
* a rational-quadratic spline flow (exact density),
* an autoregressive mixture p(x1) p(x2 | x1) (exact density),
* a VAE on points (density only as an importance-sampled estimate);

and a 1-D spline flow for each 1-D set. The 2-D GAN comes from the GAN lab (implicit: no
density). Each gets its ONNX networks in exported/density/ and a line in
exported/density.json with its held-out log-likelihood beside the true density's, on the
same held-out points.

2-D models learn from a fresh batch of the toy distribution at every step (the data are
unlimited, so the held-out gap measures the model, not overfitting). The 1-D flows learn
from the same fixed 1,000 points the app's histogram, KDE and EM fits use, so the table on
the page compares like with like.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import time
from pathlib import Path

import numpy as np
import torch

from inference.toy import TOYS, TOYS_1D
from training.artifacts import export_network, save_checkpoint, write_card
from training.models.autoregressive_mixture import ARMixture, ARMixtureConfig
from training.models.mixture import GaussianMixture
from training.models.point_diffusion import PointDiffusion, PointDiffusionConfig
from training.models.point_vae import PointVAE, PointVAEConfig
from training.models.spline_flow import SplineFlow, SplineFlowConfig

HELD_OUT_SEED = 12345
HELD_OUT = 10_000
KINDS_2D = {
    "mixture": ("Gaussian mixture (EM, 16 components)", "exact"),
    "flow": ("Spline flow (8 coupling layers)", "exact"),
    "autoregressive": ("Autoregressive mixture p(x1) p(x2 | x1)", "exact"),
    "vae": ("VAE (2-d latent)", "estimate"),
    "diffusion": ("Diffusion (100 steps, MLP denoiser)", "none"),
}
N_TRAIN_1D = 1000


def _standardization(toy) -> tuple[tuple[float, ...], tuple[float, ...]]:
    ref = toy.sample(20_000, np.random.default_rng(99))
    return tuple(ref.mean(0).tolist()), tuple(ref.std(0).tolist())


def _fit_stream(model: torch.nn.Module, toy, steps: int, seed: int, lr: float = 2e-3, batch: int = 512) -> None:
    """Maximum likelihood (or the ELBO) on fresh batches, Adam with a cosine learning-rate decay."""
    rng = np.random.default_rng(seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    model.train()
    for step in range(steps):
        x = torch.tensor(toy.sample(batch, rng))
        if hasattr(model, "beta"):  # KL warm-up (VAE): let the decoder use z before the KL term bites
            model.beta = min(1.0, step / (0.3 * steps))
        loss = model.loss(x)["loss"]
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
    model.eval()


def train_2d(kind: str, dataset: str, steps: int, seed: int) -> torch.nn.Module:
    toy = TOYS[dataset]
    torch.manual_seed(seed)
    shift, scale = _standardization(toy)
    if kind == "mixture":
        return GaussianMixture.fit(toy.sample(20_000, np.random.default_rng(seed)), components=16, seed=seed)
    if kind == "flow":
        model = SplineFlow(SplineFlowConfig(dim=2, shift=shift, scale=scale))
    elif kind == "autoregressive":
        model = ARMixture(ARMixtureConfig(shift=shift, scale=scale))
    elif kind == "vae":
        model = PointVAE(PointVAEConfig(shift=shift, scale=scale))
    elif kind == "diffusion":
        model = PointDiffusion(PointDiffusionConfig(shift=shift, scale=scale))
    else:
        raise ValueError(kind)
    _fit_stream(model, toy, _steps(kind, steps), seed, lr=1e-3 if kind == "vae" else 2e-3)
    return model


def _steps(kind: str, steps: int) -> int:
    """A diffusion model sees each point at one noise level per step: 4x the steps (at 3,000, a quarter of the
    checkerboard's and half of the rings' samples fell where the data has no mass)."""
    return 4 * steps if kind == "diffusion" else steps


@torch.no_grad()
def held_out_log_likelihood(model: torch.nn.Module, x: np.ndarray) -> float:
    torch.manual_seed(0)  # the VAE's importance samples
    t = torch.tensor(x)
    return float(torch.cat([model.log_prob(b) for b in t.split(2000)]).mean())


def _export(model: torch.nn.Module, stem: str, folder: Path, checkpoint_dir: Path) -> dict:
    """ONNX networks into exported/density/, and the weights into checkpoints/density/ so the parity
    test can compare the two."""
    config = {k: (list(v) if isinstance(v, tuple) else v) for k, v in vars(model.config).items()}
    payload = {"class": type(model).__name__, "config": config, "state_dict": model.state_dict()}
    save_checkpoint(checkpoint_dir / f"{stem}.pt", payload)
    return {role: export_network(net, folder / f"{stem}_{role}.onnx") | {"file": f"density/{stem}_{role}.onnx"}
            for role, net in model.networks().items()}  # fmt: skip


DENSITY_CLASSES = {cls.__name__: cls for cls in (GaussianMixture, SplineFlow, ARMixture, PointVAE, PointDiffusion)}


def load_density_checkpoint(path: Path) -> torch.nn.Module:
    """Rebuild a toy-density model from checkpoints/density/<stem>.pt (weights_only)."""
    ckpt = torch.load(path, map_location="cpu", weights_only=True)
    cls = DENSITY_CLASSES[ckpt["class"]]
    model = cls(cls.Config(**ckpt["config"]))
    model.load_state_dict(ckpt["state_dict"])
    return model.eval()


def run_density(
    export_dir: Path,
    checkpoint_dir: Path = Path("checkpoints"),
    steps: int = 3000,
    datasets: list[str] | None = None,
    datasets_1d: list[str] | None = None,
    seed: int = 0,
    kinds: list[str] | None = None,
) -> Path:
    start = time.perf_counter()
    export_dir = Path(export_dir)
    folder = export_dir / "density"
    folder.mkdir(parents=True, exist_ok=True)
    ckpt_folder = Path(checkpoint_dir) / "density"
    path = export_dir / "density.json"
    previous = json.loads(path.read_text()) if path.is_file() else {}  # sets not rerun keep their entries
    card: dict = {
        "kind": "density",
        "title": "Density estimation on toy data",
        "held_out": f"{HELD_OUT:,} fresh points per set, numpy default_rng({HELD_OUT_SEED})",
        "models_2d": {k: {"title": t, "density": d} for k, (t, d) in KINDS_2D.items()},
        "datasets_2d": previous.get("datasets_2d", {}),
        "datasets_1d": previous.get("datasets_1d", {}),
    }
    for dataset in list(TOYS) if datasets is None else datasets:
        toy = TOYS[dataset]
        held = toy.sample(HELD_OUT, np.random.default_rng(HELD_OUT_SEED))
        entry = {"title": toy.title, "true_held_out_ll": float(toy.log_density(held).mean())}
        entry["models"] = card["datasets_2d"].get(dataset, {}).get("models", {})  # kinds not rerun are kept
        for kind in kinds or list(KINDS_2D):
            t0 = time.perf_counter()
            model = train_2d(kind, dataset, steps, seed)
            seconds = time.perf_counter() - t0
            entry["models"][kind] = {
                # a diffusion model gives no density to evaluate: the page shows a kernel estimate of its samples
                "held_out_ll": None if kind == "diffusion" else held_out_log_likelihood(model, held),
                "networks": _export(model, f"{dataset}_{kind}", folder, ckpt_folder),
                "config": {k: (list(v) if isinstance(v, tuple) else v) for k, v in vars(model.config).items()},
                "training_seconds": round(seconds, 1),
                "steps": 0 if kind == "mixture" else _steps(kind, steps),
            }
            if kind == "vae":
                entry["models"][kind]["estimator"] = "importance sampling, k = 500 (IWAE bound)"
        card["datasets_2d"][dataset] = entry
    for dataset in list(TOYS_1D) if datasets_1d is None else datasets_1d:
        dist = TOYS_1D[dataset]
        train = dist.sample(N_TRAIN_1D, np.random.default_rng(0))
        held = dist.sample(HELD_OUT, np.random.default_rng(HELD_OUT_SEED))
        torch.manual_seed(seed)
        # Small on purpose: 1,000 points overfit a bigger flow into spikes. A wide spline range (10 sd)
        # reaches into the tails; beyond it the map is the identity, so tails stay Gaussian.
        config = SplineFlowConfig(
            dim=1, layers=2, bins=8, bound=10.0, shift=(float(train.mean()),), scale=(float(train.std()),)
        )
        model = SplineFlow(config)
        t0 = time.perf_counter()
        _fit_fixed(model, train, steps=600, seed=seed)
        card["datasets_1d"][dataset] = {
            "title": dist.title,
            "n_train": N_TRAIN_1D,
            "true_held_out_ll": float(dist.log_density(held).mean()),
            "flow": {
                "held_out_ll": held_out_log_likelihood(model, held[:, None]),
                "networks": _export(model, f"1d_{dataset}_flow", folder, ckpt_folder),
                "training_seconds": round(time.perf_counter() - t0, 1),
            },
        }
    card["seconds"] = round(time.perf_counter() - start, 1)
    card["exported"] = dt.date.today().isoformat()
    return write_card(path, card)


def _fit_fixed(model: torch.nn.Module, data: np.ndarray, steps: int, seed: int) -> None:
    """Full-batch maximum likelihood on a fixed sample, with a little weight decay against overfitting."""
    x = torch.tensor(data[:, None], dtype=torch.float32)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    for _ in range(steps):
        loss = -model.log_prob(x).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
    model.eval()
    if not math.isfinite(loss.item()):
        raise RuntimeError("the 1-D flow diverged")


def write_density_maps(export_dir: Path) -> Path | None:
    """Compute every 2-D map the Density in 2-D page shows from the exported models (toy densities and the GAN
    lab's generators) and store them in exported/density/maps_2d.npz; None if the density study is not there.
    Through the app's own code (inference/), so the page's live fallback draws the same maps."""
    from inference import density_maps
    from inference.density import load_density_card, load_trained
    from inference.ganlab import load_lab_card

    export_dir = Path(export_dir)
    card = load_density_card(export_dir)
    if card is None:
        return None
    lab_card = load_lab_card(export_dir) if (export_dir / "ganlab.json").is_file() else None
    trained = {}
    for dataset in card.datasets_2d:
        models, problems = load_trained(dataset, card, lab_card, export_dir)
        if problems:
            raise RuntimeError(f"cannot load the models of {dataset}: {'; '.join(problems)}")
        trained[dataset] = models
    return density_maps.write(export_dir / density_maps.FILE, density_maps.compute_all(TOYS, trained))
