"""The GAN lab's training runs: toy GANs on 2-D sets, with snapshots the page scrubs through.

Training records snapshots of generated points, D on a grid and G's mapped noise grid (see
training/models/toy_gan.py for the model). ``python -m training ganlab`` writes, for each run,
exported/ganlab/<dataset>_<setting>.npz (the snapshots), ..._generator.onnx (the final
generator, for the density page) and checkpoints/ganlab/<dataset>_<setting>.pt (its weights,
for the parity test), and the card exported/ganlab.json.

Two settings on the ring of 8 Gaussians show mode collapse and its cure:
* "collapse": the discriminator steps less often and more slowly than the generator.
  G finds a point D currently calls real and moves all its mass there; by the time D
  catches up, G jumps to another mode. Samples cover one or two modes at a time.
* "stable": D takes several steps per G step with a higher learning rate, and gets a
  gradient penalty on real points (R1, Mescheder et al. 2018) that keeps its surface
  smooth: G is pushed toward every mode at once.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from inference.toy import EXTENT, TOYS, grid
from training.artifacts import export_network, save_checkpoint, sha256_of, write_card
from training.models.base import Network
from training.models.toy_gan import ToyGAN, ToyGANConfig
from training.train import DEFAULT_CHECKPOINT_DIR

SETTINGS = {
    "stable": ToyGANConfig(lr_d=2e-3, d_steps=3, r1=0.5),
    "collapse": ToyGANConfig(lr_g=2e-3, lr_d=2e-4, d_steps=1, hidden=64),
}


def mode_coverage(points: np.ndarray, centers: np.ndarray, radius: float = 0.3, min_share: float = 0.02) -> dict:
    """For a mixture of separated modes: how many modes get at least ``min_share`` of the
    samples within ``radius``, and what share of samples lands near any mode."""
    d = np.linalg.norm(points[:, None] - centers[None], axis=-1)
    near = d.min(1) < radius
    nearest = d.argmin(1)
    shares = np.bincount(nearest[near], minlength=len(centers)) / len(points)
    return {
        "modes_covered": int((shares >= min_share).sum()),
        "modes": len(centers),
        "share_near_a_mode": float(near.mean()),
    }


def train_toy_gan(
    dataset: str, setting: str, seed: int = 0, steps: int | None = None, grid_cells: int = 48, mesh: int = 21
) -> dict:
    """Train one toy GAN; return its snapshots (numpy, float16 where large) and a summary.
    ``steps`` shortens the run (smoke tests); by default the setting's own."""
    config = SETTINGS[setting]
    if steps is not None:
        config = replace(config, steps=steps, snapshots=min(config.snapshots, steps))
    toy = TOYS[dataset]
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = ToyGAN(config)
    G, D = model.generator, model.discriminator
    opt_g = torch.optim.Adam(G.parameters(), lr=config.lr_g, betas=(config.beta1, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=config.lr_d, betas=(config.beta1, 0.999))

    fixed_z = torch.randn(512, config.z_dim, generator=torch.Generator().manual_seed(seed + 1))
    ticks = np.linspace(-2.5, 2.5, mesh, dtype=np.float32)  # the noise grid G maps: +-2.5 prior std
    zz = torch.tensor(np.stack(np.meshgrid(ticks, ticks), -1).reshape(-1, 2))
    _, plane = grid(grid_cells)
    plane_t = torch.tensor(plane)
    real_shown = toy.sample(512, rng)

    every = max(1, config.steps // config.snapshots)
    steps, fakes, heat, meshes, d_losses, g_losses = [], [], [], [], [], []
    start = time.perf_counter()
    for step in range(config.steps + 1):
        if step % every == 0 or step == config.steps:
            with torch.no_grad():
                steps.append(step)
                fakes.append(G(fixed_z).numpy())
                heat.append(torch.sigmoid(D(plane_t)).numpy().reshape(grid_cells, grid_cells))
                meshes.append(G(zz).numpy().reshape(mesh, mesh, 2))
        if step == config.steps:
            break
        for _ in range(config.d_steps):
            real = torch.tensor(toy.sample(config.batch, rng)).requires_grad_(config.r1 > 0)
            fake = G(torch.randn(config.batch, config.z_dim)).detach()
            d_real = D(real)
            d_loss = F.softplus(-d_real).mean() + F.softplus(D(fake)).mean()
            if config.r1 > 0:
                (grad,) = torch.autograd.grad(d_real.sum(), real, create_graph=True)
                d_loss = d_loss + 0.5 * config.r1 * grad.pow(2).sum(1).mean()
            opt_d.zero_grad()
            d_loss.backward()
            opt_d.step()
        g_loss = F.softplus(-D(G(torch.randn(config.batch, config.z_dim)))).mean()  # non-saturating
        opt_g.zero_grad()
        g_loss.backward()
        opt_g.step()
        d_losses.append(d_loss.item())
        g_losses.append(g_loss.item())

    summary = {
        "dataset": dataset,
        "setting": setting,
        "config": asdict(config),
        "seed": seed,
        "seconds": round(time.perf_counter() - start, 1),
        "final_d_loss": float(np.mean(d_losses[-100:])),
        "final_g_loss": float(np.mean(g_losses[-100:])),
    }
    if dataset == "ring8":
        final = G(torch.randn(4000, config.z_dim)).detach().numpy()
        summary |= mode_coverage(final, toy.centers)
    model.eval()
    arrays = {
        "steps": np.array(steps, np.int32),
        "real": real_shown.astype(np.float16),
        "fake": np.array(fakes, np.float16),  # (S, 512, 2)
        "d_grid": np.array(heat, np.float16),  # (S, cells, cells): D(x) on the plane, rows = y up from -EXTENT
        "g_mesh": np.array(meshes, np.float16),  # (S, mesh, mesh, 2): G's image of a noise grid
        "noise_ticks": ticks,
        "extent": np.float32(EXTENT),
        "d_loss": np.array(d_losses, np.float32)[:: max(1, len(d_losses) // 400)],
        "g_loss": np.array(g_losses, np.float32)[:: max(1, len(g_losses) // 400)],
    }
    summary["loss_note"] = "d_loss = -log D(x) - log(1 - D(G(z))); at equilibrium 2 log 2 = %.3f" % (2 * math.log(2))
    return {"arrays": arrays, "summary": summary, "model": model}


LAB_RUNS = [
    ("ring8", "stable"),
    ("ring8", "collapse"),
    ("moons", "stable"),
    ("spiral", "stable"),
    ("checkerboard", "stable"),
    ("rings", "stable"),
]


def export_lab(
    export_dir: Path,
    seed: int = 0,
    steps: int | None = None,
    runs: list[tuple[str, str]] | None = None,
    checkpoint_dir: Path = DEFAULT_CHECKPOINT_DIR,
) -> Path:
    """Train every lab run; write ganlab/<dataset>_<setting>.npz and _generator.onnx, the generator's
    checkpoint in checkpoint_dir/ganlab/, and the ganlab.json card."""
    export_dir = Path(export_dir)
    (export_dir / "ganlab").mkdir(parents=True, exist_ok=True)
    entries = []
    for dataset, setting in runs or LAB_RUNS:
        result = train_toy_gan(dataset, setting, seed=seed, steps=steps)
        stem = f"{dataset}_{setting}"
        path = export_dir / "ganlab" / f"{stem}.npz"
        np.savez_compressed(path, **result["arrays"])
        # The final generator, for the density page: samples from it, smoothed by a KDE.
        model = result["model"]
        generator = Network(model.generator, (torch.zeros(2, model.config.z_dim),), ["z"], ["x"])
        g_info = export_network(generator, export_dir / "ganlab" / f"{stem}_generator.onnx")
        g_info["file"] = f"ganlab/{g_info['file']}"
        # and its weights, so a test can hold the ONNX file against the network it came from
        save_checkpoint(
            Path(checkpoint_dir) / "ganlab" / f"{stem}.pt",
            {"dataset": dataset, "setting": setting, "config": asdict(model.config),
             "state_dict": model.generator.state_dict()},
        )  # fmt: skip
        files = {"file": f"ganlab/{path.name}", "sha256": sha256_of(path), "generator": g_info}
        entries.append(result["summary"] | files)
    card = {
        "kind": "ganlab",
        "title": "2-D GAN lab: training snapshots",
        "description": "Toy GANs on 2-D distributions; for each run, snapshots through training of generated "
        "points (512, fixed noise), D(x) on a 48 x 48 grid over [-4, 4]^2, and G's image of a 21 x 21 noise grid.",
        "runs": entries,
    }
    return write_card(export_dir / "ganlab.json", card)


def load_generator(path: Path) -> nn.Sequential:
    """Rebuild a lab run's final generator from checkpoints/ganlab/<dataset>_<setting>.pt, in eval mode."""
    ckpt = torch.load(path, map_location="cpu", weights_only=True)
    generator = ToyGAN(ToyGANConfig(**ckpt["config"])).generator
    generator.load_state_dict(ckpt["state_dict"])
    return generator.eval()
