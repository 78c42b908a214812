"""The training loop: one function for every model, on one process or many (torchrun).

Every model exposes ``loss(x) -> dict`` of named nats-per-image terms with a ``"loss"`` key;
the progress bar and the checkpoint show the same names. Training images are binarized
afresh every epoch (dynamic binarization, see training/data.py).

Under ``torchrun --nproc_per_node=N`` the same code runs DistributedDataParallel: each
process takes every N-th image of the epoch's permutation, gradients are averaged, and
rank 0 writes the checkpoint. The backend is gloo on CPU and NCCL on GPUs.
"""

from __future__ import annotations

import os
import platform
import time
from dataclasses import asdict
from pathlib import Path

import torch
import torch.distributed as dist
from torch import nn
from tqdm import tqdm

from training import data as data_lib
from training.models import get_spec

DEFAULT_CHECKPOINT_DIR = Path("checkpoints")


class _LossModule(nn.Module):
    """Routes ``loss`` through ``forward`` so that DistributedDataParallel sees the call."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor, labels: torch.Tensor) -> dict[str, torch.Tensor]:
        if getattr(self.model, "uses_labels", False):  # class-conditional models and classifiers
            return self.model.loss(x, labels)
        return self.model.loss(x)


def _average_gradients(module: nn.Module) -> None:
    """What DistributedDataParallel does after backward, for models that step by hand (GANs)."""
    if not (dist.is_available() and dist.is_initialized()):
        return
    world = dist.get_world_size()
    for p in module.parameters():
        if p.grad is not None:
            dist.all_reduce(p.grad, op=dist.ReduceOp.SUM)
            p.grad /= world


def resolve_device(device: str) -> torch.device:
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("--device cuda asked for, but torch sees no CUDA device")
    return torch.device(device)


def _setup_distributed(device: torch.device) -> tuple[int, int, torch.device]:
    """(rank, world_size, device); starts the process group when launched by torchrun."""
    if not dist.is_torchelastic_launched():
        return 0, 1, device
    backend = "nccl" if device.type == "cuda" else "gloo"
    dist.init_process_group(backend)
    rank, world = dist.get_rank(), dist.get_world_size()
    if device.type == "cuda":
        local_rank = int(os.environ.get("LOCAL_RANK", 0))
        torch.cuda.set_device(local_rank)
        device = torch.device("cuda", local_rank)
    return rank, world, device


def train(
    name: str,
    *,
    epochs: int | None = None,
    data: str = "mnist5k",
    seed: int = 0,
    device: str = "auto",
    checkpoint_dir: Path = DEFAULT_CHECKPOINT_DIR,
    limit: int | None = None,
    quiet: bool = False,
) -> Path | None:
    """Train model ``name`` and write ``checkpoint_dir/<name>.pt``; returns its path (rank 0)."""
    spec = get_spec(name)
    epochs = spec.epochs if epochs is None else epochs
    rank, world, dev = _setup_distributed(resolve_device(device))
    try:
        ds = data_lib.load(data)
        images = ds.train.images if limit is None else ds.train.images[:limit]
        x_train = torch.tensor(images, dtype=torch.float32).unsqueeze(1).div(255).to(dev)  # (N, 1, H, W)
        y_train = torch.tensor(ds.train.labels[: len(images)]).to(dev)

        if dev.type == "cpu":
            torch.use_deterministic_algorithms(True, warn_only=True)
        torch.manual_seed(seed)  # same initial weights on every rank
        model = spec.build(ds.image_size).to(dev)
        # Most models minimize one loss with one optimizer, wrapped in DDP under torchrun. A model
        # with its own train_step (a GAN: two players, two optimizers) steps itself, and its
        # gradients are averaged across processes by _average_gradients, as DDP would.
        custom_step = hasattr(model, "train_step")
        if custom_step:
            optimizers = model.optimizers(spec.lr)
            for p in model.parameters():  # DDP broadcasts rank 0's weights; do the same
                if world > 1:
                    dist.broadcast(p.data, src=0)
        else:
            step_fn: nn.Module = _LossModule(model)
            if world > 1:
                step_fn = nn.parallel.DistributedDataParallel(step_fn)
            optimizer = torch.optim.Adam(model.parameters(), lr=spec.lr)
        torch.manual_seed(seed + 1000 * rank)  # model noise (e.g. the VAE's eps) differs per rank

        per_rank_batch = max(1, spec.batch_size // world)
        n_per_rank = len(x_train) // world
        steps_per_epoch = -(-n_per_rank // per_rank_batch)
        progress = tqdm(
            total=epochs * steps_per_epoch,
            desc=f"train {name}",
            unit="step",
            disable=quiet or rank != 0,
            dynamic_ncols=True,
        )
        history: list[dict[str, float]] = []
        start = time.perf_counter()
        for epoch in range(epochs):
            model.train()
            # The epoch's order and binarization depend only on (seed, epoch, rank): reruns match.
            order = torch.randperm(len(x_train), generator=torch.Generator().manual_seed(seed * 100_003 + epoch))
            mine = order[rank::world][:n_per_rank].to(dev)
            binarize = torch.Generator(device=dev).manual_seed(seed * 100_003 + epoch + 7_919 * (rank + 1))
            sums: dict[str, float] = {}
            seen = 0
            for i in range(0, n_per_rank, per_rank_batch):
                batch = mine[i : i + per_rank_batch]
                x = torch.bernoulli(x_train[batch], generator=binarize) if spec.binarize else x_train[batch]
                if custom_step:
                    terms = model.train_step(x, y_train[batch], optimizers, _average_gradients)
                else:
                    terms = step_fn(x, y_train[batch])
                    optimizer.zero_grad(set_to_none=True)
                    terms["loss"].backward()
                    optimizer.step()
                for key, value in terms.items():
                    sums[key] = sums.get(key, 0.0) + value.item() * len(x)
                seen += len(x)
                progress.set_postfix({"epoch": epoch + 1, **{k: f"{v / seen:.2f}" for k, v in sums.items()}}, refresh=False)
                progress.update(1)
            history.append({"epoch": epoch + 1, **{k: v / seen for k, v in sums.items()}})
        if hasattr(model, "finalize"):
            model.finalize()  # e.g. a GAN's precise batch-norm statistics
        seconds = time.perf_counter() - start
        progress.close()

        if rank != 0:
            return None
        checkpoint_dir = Path(checkpoint_dir)
        checkpoint_dir.mkdir(parents=True, exist_ok=True)
        path = checkpoint_dir / f"{name}.pt"
        config = {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(model.config).items()}
        torch.save(
            {
                "name": name,
                "config": config,
                "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
                "train": {
                    "data": data,
                    "data_info": ds.describe(),
                    "limit": limit,
                    "epochs": epochs,
                    "batch_size": spec.batch_size,
                    "lr": spec.lr,
                    "optimizer": getattr(model, "optimizer_name", "Adam"),
                    "inputs": "binarized afresh every epoch" if spec.binarize else "grayscale intensities / 255",
                    "seed": seed,
                    "device": str(dev),
                    "world_size": world,
                    "seconds": round(seconds, 1),
                    "machine": f"{platform.machine()}, {os.cpu_count()} CPU cores, torch threads {torch.get_num_threads()}",
                    "torch": str(torch.__version__),
                    "final": history[-1] if history else {},
                    "history": history,
                },
            },
            path,
        )
        return path
    finally:
        if world > 1:
            dist.destroy_process_group()


def load_checkpoint(path: Path) -> tuple[nn.Module, dict]:
    """Rebuild a model from its checkpoint (config + state dict), on the CPU, in eval mode."""
    ckpt = torch.load(path, map_location="cpu", weights_only=True)
    spec = get_spec(ckpt["name"])
    config = spec.model.Config(**ckpt["config"])
    model = spec.model(config)
    model.load_state_dict(ckpt["state_dict"])
    model.eval()
    return model, ckpt
