"""The training loop: one function for every model, on one process or many (torchrun).

Every model exposes ``loss(x) -> dict`` of named nats-per-image terms with a ``"loss"`` key;
the progress bar and the checkpoint show the same names. Training images are binarized
afresh every epoch (dynamic binarization, see training/data.py).

Under ``torchrun --nproc_per_node=N`` the same code runs DistributedDataParallel: each
process takes every N-th image of the epoch's permutation, gradients are averaged, and
rank 0 writes the checkpoint. The backend is gloo on CPU and NCCL on GPUs.

Training is resumable: after every epoch each process writes ``<name>.resume[-candidate][.rank].pt``
beside the checkpoint (weights, optimizer states, curves, the best weights so far, the random state and
the seconds spent). Run the same command again and it carries on from the last whole epoch, with the
same result as an unbroken run; the files go once the checkpoint is written.
"""

from __future__ import annotations

import copy
import math
import os
import platform
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import torch
import torch.distributed as dist
from torch import nn
from tqdm import tqdm

from training import data as data_lib
from training.artifacts import save_checkpoint
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


@dataclass(frozen=True)
class ValidationSet:
    """The validation split as the trainer scores it: every choice is made here, never on test."""

    x: torch.Tensor  # (N, 1, H, W) the fixed binarization (seed 1), for models of binary images
    x_gray: torch.Tensor  # (N, 1, H, W) intensities / 255, for models of grayscale images
    y: torch.Tensor  # (N,) labels
    judge: nn.Module | None = None  # the sample-quality classifier (trained on train), for models scored by samples

    @classmethod
    def of(cls, split: data_lib.Split, checkpoint_dir: Path, device: torch.device) -> ValidationSet:
        x = torch.tensor(
            data_lib.binarize_fixed(split.images, data_lib.VALIDATION_BINARIZATION_SEED), dtype=torch.float32
        )
        gray = torch.tensor(split.images, dtype=torch.float32).div(255)
        return cls(x.unsqueeze(1).to(device), gray.unsqueeze(1).to(device), torch.tensor(split.labels).to(device),
                   _judge(Path(checkpoint_dir), split.images.shape[-1], device))  # fmt: skip


def _judge(checkpoint_dir: Path, image_size: int, device: torch.device) -> nn.Module | None:
    """The trained classifier in ``checkpoint_dir``, if there is one for images of this size."""
    path = checkpoint_dir / "classifier.pt"
    if not path.is_file():
        return None
    model, ckpt = load_checkpoint(path)
    return model.to(device) if ckpt["config"]["image_size"] == image_size else None


@torch.no_grad()
def validation_figures(model: nn.Module, spec, val: ValidationSet) -> dict[str, float]:
    """The model's figures on the validation split: its own ``validate`` (a GAN, scored by its samples),
    or else its training loss terms on the fixed validation images, in eval mode with fixed noise."""
    model.eval()
    with torch.random.fork_rng(devices=[]):  # the training run's random stream is left as it was
        torch.manual_seed(0)
        if hasattr(model, "validate"):
            figures = model.validate(val)
        else:
            x = val.x if spec.binarize else val.x_gray
            sums: dict[str, float] = {}
            for xb, yb in zip(x.split(500), val.y.split(500), strict=True):
                terms = model.loss(xb, yb) if getattr(model, "uses_labels", False) else model.loss(xb)
                for key, value in terms.items():
                    sums[key] = sums.get(key, 0.0) + value.item() * len(xb)
            figures = {k: v / len(x) for k, v in sums.items()}
    model.train()
    return {k: float(v) for k, v in figures.items()}


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
    """Train model ``name`` and write ``checkpoint_dir/<name>.pt``; returns its path (rank 0).

    Each of the recipe's candidates (one, unless the spec lists several: a penalty on or off, another
    batch size) is trained with the same seed and budget, scored on the validation split every
    ``validate_every`` epochs, and the weights with the best validation figure of all are kept."""
    spec = get_spec(name)
    rank, world, dev = _setup_distributed(resolve_device(device))
    try:
        ds = data_lib.load(data)
        train_split = ds.train if limit is None else ds.train.subset(data_lib.balanced_first(ds.train.labels, limit))
        val = ValidationSet.of(ds.validation, checkpoint_dir, dev)
        if dev.type == "cpu":
            torch.use_deterministic_algorithms(True, warn_only=True)
        runs = []
        candidates = spec.candidates or ({},)
        resume_files = []
        for i, overrides in enumerate(candidates):
            recipe = spec.with_overrides(overrides)
            resume = Path(checkpoint_dir) / _resume_name(name, i if len(candidates) > 1 else None, rank, world)
            resume_files.append(resume)
            run_epochs = recipe.epochs if epochs is None else epochs
            fingerprint = {"data": data, "limit": limit, "seed": seed, "epochs": run_epochs, "world": world,
                           "recipe": repr(recipe)}  # fmt: skip
            runs.append(_fit(recipe, train_split, val, ds.image_size, run_epochs, seed, dev, rank, world, quiet,
                             resume, fingerprint))  # fmt: skip
            runs[-1]["overrides"] = overrides
        best = 0
        for i in range(1, len(runs)):
            best = i if _better(runs[i]["best_score"], runs[best]["best_score"]) else best
        chosen = runs[best]
        if rank != 0:
            dist.barrier()  # rank 0 has written the checkpoint: the resume files may go
            for resume in resume_files:
                resume.unlink(missing_ok=True)
            return None
        path = Path(checkpoint_dir) / f"{name}.pt"
        model = chosen["model"]
        sampling: list = []
        choosing = time.perf_counter()
        if hasattr(model, "choose_on_validation"):
            # A sampling setting (a diffusion model's guidance scale) is chosen on validation too, with the
            # kept weights.
            model.load_state_dict(chosen["state_dict"])
            changes, sampling = model.choose_on_validation(val)
            model.config = replace(model.config, **changes)
        choosing = time.perf_counter() - choosing
        config = {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(model.config).items()}
        recipe = chosen["recipe"]
        save_checkpoint(
            path,
            {
                "name": name,
                "config": config,
                "state_dict": chosen["state_dict"],
                "train": {
                    "data": data,
                    "data_info": ds.describe(with_test=False),
                    "limit": limit,
                    "epochs": chosen["epochs"],
                    "batch_size": recipe.batch_size,
                    "lr": recipe.lr,
                    "optimizer": getattr(model, "optimizer_name", "Adam"),
                    "inputs": "binarized afresh every epoch" if recipe.binarize else "grayscale intensities / 255",
                    "seed": seed,
                    "device": str(dev),
                    "world_size": world,
                    "seconds": round(sum(r["seconds"] for r in runs) + choosing, 1),
                    "machine": f"{platform.machine()}, {os.cpu_count()} CPU cores, torch threads {torch.get_num_threads()}",
                    "torch": str(torch.__version__),
                    "final": chosen["history"][-1] if chosen["history"] else {},
                    "history": chosen["history"],
                    "validation": {
                        "split": f"{len(ds.validation)} images, {ds.split_rule}",
                        "figure": spec.select_on,
                        "every_epochs": recipe.validate_every,
                        "best_epoch": chosen["best_epoch"],
                        "best": chosen["best_figures"],
                        "curve": chosen["curve"],
                    },
                    "selection": {
                        "rule": f"lowest validation {spec.select_on} over every candidate and validated epoch",
                        "chosen": best,
                        "candidates": [
                            {
                                "overrides": r["overrides"],
                                "best_epoch": r["best_epoch"],
                                "best": r["best_figures"],
                                "seconds": round(r["seconds"], 1),
                            }
                            for r in runs
                        ],  # fmt: skip
                        **({"sampling": sampling} if sampling else {}),
                    },
                    **({"resumed_at_epochs": resumed} if (resumed := [e for r in runs for e in r["resumed"]]) else {}),
                },
            },
        )
        if world > 1:
            dist.barrier()
        for resume in resume_files:
            resume.unlink(missing_ok=True)
        return path
    finally:
        if world > 1:
            dist.destroy_process_group()


def _better(score: float, old: float) -> bool:
    """Lower is better; a missing figure (NaN: no judge to score samples with) never displaces a real one,
    and where there is none at all the latest weights are kept."""
    if math.isnan(score):
        return math.isnan(old) or math.isinf(old)
    return math.isnan(old) or score < old


def _resume_name(name: str, candidate: int | None, rank: int, world: int) -> str:
    return f"{name}.resume{'' if candidate is None else f'-{candidate}'}{'' if world == 1 else f'.rank{rank}'}.pt"


def _fit(spec, split: data_lib.Split, val: ValidationSet, image_size: int, epochs: int, seed: int,
         dev: torch.device, rank: int, world: int, quiet: bool, resume: Path | None = None,
         fingerprint: dict | None = None) -> dict:  # fmt: skip
    """One training run of one recipe; the weights of its best validated epoch and its curves. With ``resume``,
    the run's state is written there after every epoch, and a state already there (from the same command,
    as ``fingerprint`` says) is carried on from."""
    x_train = torch.tensor(split.images, dtype=torch.float32).unsqueeze(1).div(255).to(dev)  # (N, 1, H, W)
    y_train = torch.tensor(split.labels).to(dev)
    torch.manual_seed(seed)  # same initial weights on every rank
    model = spec.build(image_size).to(dev)
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
        desc=f"train {spec.name}",
        unit="step",
        disable=quiet or rank != 0,
        dynamic_ncols=True,
    )
    history: list[dict[str, float]] = []
    curve: list[dict[str, float]] = []
    best: dict = {"score": math.inf}
    first_epoch, spent, resumed = 0, 0.0, []
    state = _load_resume(resume, fingerprint, quiet or rank != 0)
    if state is not None:
        model.load_state_dict(state["model"])
        for key, opt in optimizers.items() if custom_step else [("", optimizer)]:
            opt.load_state_dict(state["optimizers"][key])
        history, curve, best = state["history"], state["curve"], state["best"]
        first_epoch, spent, resumed = state["epoch"], state["seconds"], [*state["resumed"], state["epoch"]]
        torch.set_rng_state(state["rng"])
        if dev.type == "cuda" and "cuda_rng" in state:
            torch.cuda.set_rng_state(state["cuda_rng"], dev)
        progress.update(first_epoch * steps_per_epoch)
    start = time.perf_counter()
    for epoch in range(first_epoch, epochs):
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
                if spec.grad_clip:
                    nn.utils.clip_grad_norm_(model.parameters(), spec.grad_clip)
                optimizer.step()
            for key, value in terms.items():
                sums[key] = sums.get(key, 0.0) + value.item() * len(x)
            seen += len(x)
            progress.set_postfix({"epoch": epoch + 1, **{k: f"{v / seen:.2f}" for k, v in sums.items()}}, refresh=False)
            progress.update(1)
        history.append({"epoch": epoch + 1, **{k: v / seen for k, v in sums.items()}})
        if (epoch + 1) % spec.validate_every == 0 or epoch + 1 == epochs:
            # A model that finishes itself (a GAN's precise batch-norm statistics) is scored finished,
            # on a copy, so training goes on from the weights as they were.
            scored = copy.deepcopy(model) if hasattr(model, "finalize") else model
            if scored is not model:
                scored.finalize()
            figures = validation_figures(scored, spec, val)
            curve.append({"epoch": epoch + 1, **figures})
            score = figures.get(spec.select_on, math.nan)
            if rank == 0 and not quiet:
                progress.write(f"{spec.name} epoch {epoch + 1}: validation {spec.select_on} {score:.3f}")
            if _better(score, best["score"]):
                best = {"score": score, "epoch": epoch + 1, "figures": figures,
                        "state_dict": {k: v.detach().cpu().clone() for k, v in scored.state_dict().items()}}  # fmt: skip
        if resume is not None:
            save_checkpoint(resume, {
                "fingerprint": fingerprint, "epoch": epoch + 1, "seconds": spent + time.perf_counter() - start,
                "resumed": resumed, "model": model.state_dict(),
                "optimizers": {k: o.state_dict() for k, o in (optimizers.items() if custom_step else [("", optimizer)])},
                "history": history, "curve": curve, "best": best, "rng": torch.get_rng_state(),
                **({"cuda_rng": torch.cuda.get_rng_state(dev)} if dev.type == "cuda" else {}),
            })  # fmt: skip
    seconds = spent + time.perf_counter() - start
    progress.close()
    return {
        "recipe": spec,
        "model": model,
        "epochs": epochs,
        "history": history,
        "curve": curve,
        "best_epoch": best["epoch"],
        "best_score": best["score"],
        "best_figures": best["figures"],
        "state_dict": best["state_dict"],
        "seconds": seconds,
        "resumed": resumed,
    }


def _load_resume(path: Path | None, fingerprint: dict | None, quiet: bool) -> dict | None:
    """The state a broken run of the same command left at ``path``, or None (no file, or another command's)."""
    if path is None or not path.is_file():
        return None
    state = torch.load(path, map_location="cpu", weights_only=True)
    if state.get("fingerprint") != fingerprint:
        if not quiet:
            print(f"{path}: left by another command ({state.get('fingerprint')}); starting afresh")
        return None
    if not quiet:
        print(f"{path}: resuming after epoch {state['epoch']} ({state['seconds']:.0f} s spent so far)")
    return state


def load_checkpoint(path: Path) -> tuple[nn.Module, dict]:
    """Rebuild a model from its checkpoint (config + state dict), on the CPU, in eval mode."""
    ckpt = torch.load(path, map_location="cpu", weights_only=True)
    spec = get_spec(ckpt["name"])
    config = spec.model.Config(**ckpt["config"])
    model = spec.model(config)
    model.load_state_dict(ckpt["state_dict"])
    model.eval()
    return model, ckpt
