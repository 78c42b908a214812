"""The maps of the Density in 2-D page: each model's log p(x) on a grid over the toy plane, and its samples.

They depend only on the shipped files, so export computes them once (``python -m training density-maps``,
which ``density`` and ``ganlab`` also run last) into exported/density/maps_2d.npz, and the page reads them
instead of spending seconds per data set on flows, importance sampling and kernel estimates. Each stored map
names the sha256 of the networks it came from (or of the toy set's definition, for the true density); a map
whose sources have changed since is computed live instead, so a retrained model never shows a stale picture.

A map is stored as the page shows it: log p(x) clipped to the FLOOR nats below its maximum, in 256 levels
(0.04 nats apart, finer than the colour map can show), with the maximum in nats.
"""

from __future__ import annotations

import hashlib
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from inference import density
from inference.cards import networks_source
from inference.toy import EXTENT, Toy

CELLS = 200  # grid cells per side (the VAE's importance-sampled map: half as many)
FLOOR = 10.0  # nats below each map's maximum where its colour scale stops
SHOWN_SAMPLES = 500  # model samples overlaid on its map
KDE_SAMPLES = 2000  # samples behind the kernel estimate of a model known only by its samples
FILE = "density/maps_2d.npz"
TRUE = "true"  # the kind under which the toy set's own density is stored


@dataclass(frozen=True)
class DensityMap:
    """log p(x) on a square grid over [-extent, extent]^2 (row 0 at the bottom), as shown: clipped and leveled."""

    levels: np.ndarray  # (cells, cells) uint8: 0 is FLOOR nats or more below the top, 255 the top
    top: float  # the largest log p(x) on the grid, nats
    samples: np.ndarray | None = None  # (SHOWN_SAMPLES, 2) of the model's samples; None for the true density
    extent: float = EXTENT

    @property
    def cells(self) -> int:
        return self.levels.shape[0]

    def log_p(self) -> np.ndarray:
        """The shown values back in nats (the floor where the density is below it)."""
        return self.top - FLOOR + self.levels.astype(np.float64) * (FLOOR / 255)


def leveled(values: np.ndarray, samples: np.ndarray | None = None, extent: float = EXTENT) -> DensityMap:
    """A grid of log p(x) (nats; -inf or nan where the density is zero) as the page shows it."""
    values = np.asarray(values, np.float64)
    finite = values[np.isfinite(values)]
    top = float(finite.max()) if finite.size else 0.0
    shown = np.clip(np.nan_to_num(values, nan=top - FLOOR, neginf=top - FLOOR, posinf=top), top - FLOOR, top)
    levels = np.rint((shown - (top - FLOOR)) * (255 / FLOOR)).astype(np.uint8)
    kept = None if samples is None else np.asarray(samples[:SHOWN_SAMPLES], np.float32)
    return DensityMap(levels, top, kept, extent)


def model_map(kind: str, model, cells: int = CELLS) -> DensityMap:
    """One trained toy model's map: its exact log p(x); the VAE's importance-sampled estimate (k = 16, on a
    grid half as fine, as the estimate costs 16 decoder passes a point); for a model with samples only (the
    GAN, the diffusion model), a Gaussian kernel estimate of 2,000 of them."""
    samples = model.sample(KDE_SAMPLES, seed=0)
    if kind in ("gan", "diffusion"):
        bw = density.scott_bandwidth(samples)
        _, values = density.grid_log_density(lambda x: density.kde_log_density(samples, x, bw), cells, EXTENT)
    elif kind == "vae":
        _, values = density.grid_log_density(lambda x: model.log_prob(x, k=16), cells // 2, EXTENT)
    else:
        _, values = density.grid_log_density(model.log_prob, cells, EXTENT)
    return leveled(values, samples)


def true_map(toy: Toy, cells: int = CELLS) -> DensityMap:
    _, values = density.grid_log_density(toy.log_density, cells, EXTENT)
    return leveled(values)


def model_source(model) -> str:
    """What a loaded toy model's map was computed from (inference.density's TrainedDensity or GeneratorSamples):
    the sha256 of its networks."""
    return networks_source(model.entry.networks if hasattr(model, "entry") else {"generator": model.spec})


def true_source(toy: Toy) -> str:
    """What the true density's map was computed from: the toy set's definition (centres and width)."""
    h = hashlib.sha256(f"{toy.name}:{toy.sigma!r}:{CELLS}".encode())
    if toy.centers is not None:
        h.update(np.ascontiguousarray(toy.centers, np.float64).tobytes())
    return "toy:" + h.hexdigest()


def write(path: Path, maps: dict[tuple[str, str], tuple[DensityMap, str]]) -> Path:
    """Store maps, {(dataset, kind): (map, source)}, in one compressed file."""
    arrays: dict[str, np.ndarray] = {}
    for (dataset, kind), (m, src) in maps.items():
        key = f"{dataset}/{kind}"
        arrays[f"{key}/levels"] = m.levels
        arrays[f"{key}/top"] = np.float64(m.top)
        arrays[f"{key}/extent"] = np.float64(m.extent)
        arrays[f"{key}/source"] = np.str_(src)
        if m.samples is not None:
            arrays[f"{key}/samples"] = m.samples
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp.npz")
    np.savez_compressed(tmp, **arrays)
    tmp.replace(path)
    return path


def read(path: Path) -> dict[tuple[str, str], tuple[DensityMap, str]]:
    """The stored maps, {(dataset, kind): (map, source)}; empty if the file is missing or unreadable (the page
    then computes every map live)."""
    try:
        with np.load(path, allow_pickle=False) as f:
            data = {k: f[k] for k in f.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile):
        return {}
    maps = {}
    for key in data:
        if not key.endswith("/levels"):
            continue
        stem = key[: -len("/levels")]
        dataset, kind = stem.split("/", 1)
        try:
            m = DensityMap(
                data[key], float(data[f"{stem}/top"]), data.get(f"{stem}/samples"), float(data[f"{stem}/extent"])
            )
            maps[(dataset, kind)] = (m, str(data[f"{stem}/source"]))
        except (KeyError, ValueError):  # an entry missing a part: that map is computed live
            continue
    return maps


def compute_all(toys: dict[str, Toy], trained: dict[str, dict]) -> dict[tuple[str, str], tuple[DensityMap, str]]:
    """Every map, for ``trained`` = {dataset: {kind: model}}: what :func:`write` stores."""
    maps = {}
    for dataset, models in trained.items():
        toy = toys[dataset]
        maps[(dataset, TRUE)] = (true_map(toy), true_source(toy))
        for kind, model in models.items():
            maps[(dataset, kind)] = (model_map(kind, model), model_source(model))
    return maps
