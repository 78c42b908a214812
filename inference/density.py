"""Density estimation on the app side (numpy + onnxruntime): classic estimators fitted live, and
the trained toy-density models shipped in exported/density/.

Live estimators, fast enough to refit on every slider move: histogram, Gaussian kernel
density estimate, and a Gaussian mixture fitted by EM. Trained models (exact: mixture, spline
flow, autoregressive mixture; estimated: VAE by importance sampling; none: the GAN, shown as
a KDE of its samples) come from `python -m training density` and the GAN lab.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from inference.cards import DensityCard, GanLabCard, NetworkSpec, ToyModel, load_study_card
from inference.numeric import LOG_2PI, diagonal_gaussian_log_prob, kmeans_plus_plus, log_mean_exp, logsumexp
from inference.registry import exported_dir
from inference.runtime import ModelFileError, check_file, load_network
from inference.toy import log_sum_gaussians


class DataInputError(ValueError):
    """User-supplied values that cannot be used; the message is shown on the page."""


# ---- user data ------------------------------------------------------------------------------


def parse_values(text: str, columns: int = 1, min_points: int = 10, max_points: int = 100_000) -> np.ndarray:
    """Numbers typed or uploaded (one point per line; commas, spaces or semicolons between columns)
    -> (n,) or (n, columns) float array. Raises DataInputError with a message for the page."""
    rows = [line.strip() for line in text.replace("\r", "\n").split("\n") if line.strip()]
    if columns == 1 and len(rows) == 1:  # one line of comma-separated values
        rows = [v for v in rows[0].replace(";", ",").split(",") if v.strip()]
    values = []
    for number, row in enumerate(rows, start=1):
        parts = [p for p in row.replace(";", ",").replace("\t", ",").replace(" ", ",").split(",") if p]
        try:
            nums = [float(p) for p in parts]
        except ValueError:
            if number == 1:
                continue  # a header line
            raise DataInputError(f"line {number} is not {columns} number(s): {row[:40]!r}") from None
        if len(nums) < columns:
            raise DataInputError(f"line {number} has {len(nums)} value(s), {columns} needed: {row[:40]!r}")
        values.append(nums[:columns])
    x = np.asarray(values, np.float64).reshape(-1, columns)
    if not np.isfinite(x).all():
        bad = int((~np.isfinite(x)).any(1).sum())
        raise DataInputError(f"{bad} value(s) are NaN or infinite; remove them and try again")
    if len(x) < min_points:
        raise DataInputError(f"{len(x)} point(s) is too few: at least {min_points} are needed to estimate a density")
    if len(x) > max_points:
        raise DataInputError(f"{len(x):,} points is more than the {max_points:,} this page handles")
    if (x.std(0) == 0).any():
        raise DataInputError("all the values are the same: there is no spread to estimate a density from")
    return x[:, 0] if columns == 1 else x


def split(x: np.ndarray, held_out: float = 0.2, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A fixed train / held-out split of user data."""
    idx = np.random.default_rng(seed).permutation(len(x))
    n = max(1, int(round(held_out * len(x))))
    return x[idx[n:]], x[idx[:n]]


# ---- live estimators --------------------------------------------------------------------------


def histogram_log_density(train: np.ndarray, x: np.ndarray, bins: int, floor: float = 1e-6) -> np.ndarray:
    """Histogram density on ``bins`` equal bins over the training range; ``floor`` where it is zero,
    so held-out points in empty bins cost a finite (large) penalty instead of -inf."""
    density, edges = np.histogram(train, bins=bins, density=True)
    idx = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, bins - 1)
    inside = (x >= edges[0]) & (x <= edges[-1])
    return np.log(np.where(inside, np.maximum(density[idx], floor), floor))


def scott_bandwidth(train: np.ndarray) -> float:
    """Scott's rule for a Gaussian kernel: sigma n^(-1/(d+4)) per dimension (average over dimensions)."""
    train = np.atleast_2d(train.T).T
    n, d = train.shape
    return float(train.std(0).mean() * n ** (-1.0 / (d + 4)))


def kde_log_density(train: np.ndarray, x: np.ndarray, bandwidth: float, chunk: int = 512) -> np.ndarray:
    """Gaussian kernel density estimate, isotropic bandwidth, in 1 or 2 dimensions."""
    train = np.asarray(train, np.float64).reshape(len(train), -1)
    x = np.asarray(x, np.float64).reshape(len(x), -1)
    d = train.shape[1]
    norm = -math.log(len(train)) - d * math.log(bandwidth) - 0.5 * d * LOG_2PI
    return log_sum_gaussians(x, train, bandwidth, chunk) + norm


@dataclass(frozen=True)
class GaussianMixtureFit:
    weights: np.ndarray  # (K,)
    means: np.ndarray  # (K, D)
    covariances: np.ndarray  # (K, D, D)
    history: list[float]  # mean log-likelihood per point after each EM iteration

    def log_density(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, np.float64).reshape(len(x), -1)
        return _gmm_log_components(x, self.weights, self.means, self.covariances)[1]


def _gmm_log_components(x, weights, means, covs) -> tuple[np.ndarray, np.ndarray]:
    """log pi_k N(x_n; mu_k, S_k) (N, K) and log p(x_n) (N,)."""
    D = x.shape[1]
    L = np.linalg.cholesky(covs)  # (K, D, D)
    L_inv = np.linalg.inv(L)
    diff = x[:, None, :] - means[None]  # (N, K, D)
    white = np.einsum("kij,nkj->nki", L_inv, diff)  # L^-1 (x - mu)
    log_det = np.log(np.diagonal(L, axis1=1, axis2=2)).sum(1)
    log_n = -0.5 * (white**2).sum(-1) - log_det - 0.5 * D * LOG_2PI
    joint = np.log(weights)[None] + log_n
    return joint, logsumexp(joint, axis=1)


def fit_gmm(
    x: np.ndarray, k: int, iters: int = 100, seed: int = 0, tol: float = 1e-5, reg: float = 1e-6
) -> GaussianMixtureFit:
    """A Gaussian mixture fitted by EM (full covariances). Initialized at k data points chosen by
    k-means++ seeding; ``reg`` on the covariance diagonal keeps components from collapsing."""
    x = np.asarray(x, np.float64).reshape(len(x), -1)
    n, d = x.shape
    k = max(1, min(int(k), n))
    means = kmeans_plus_plus(x, k, np.random.default_rng(seed))
    scale = np.cov(x, rowvar=False).reshape(d, d) + reg * np.eye(d)
    covs = np.repeat(scale[None] / k, k, axis=0)
    weights = np.full(k, 1.0 / k)
    history: list[float] = []
    for _ in range(iters):
        joint, log_p = _gmm_log_components(x, weights, means, covs)  # E step
        history.append(float(log_p.mean()))
        resp = np.exp(joint - log_p[:, None])  # (N, K)
        nk = resp.sum(0) + 1e-12  # M step
        weights = nk / n
        means = (resp.T @ x) / nk[:, None]
        diff = x[:, None, :] - means[None]
        covs = np.einsum("nk,nki,nkj->kij", resp, diff, diff) / nk[:, None, None] + reg * np.eye(d)
        if len(history) > 1 and abs(history[-1] - history[-2]) < tol:
            break
    history.append(float(_gmm_log_components(x, weights, means, covs)[1].mean()))
    return GaussianMixtureFit(weights, means, covs, history)


# ---- trained models -----------------------------------------------------------------------------


def load_density_card(folder: Path | None = None) -> DensityCard | None:
    """The toy-density study's card, None if the study has not been run; CardError if it is malformed."""
    path = (Path(folder) if folder is not None else exported_dir()) / "density.json"
    return load_study_card(path) if path.is_file() else None


class TrainedDensity:
    """One exported toy-density model: log p(x) (exact, or estimated for the VAE) and samples."""

    def __init__(self, kind: str, entry: ToyModel, folder: Path | None = None):
        folder = Path(folder) if folder is not None else exported_dir()
        self.kind, self.entry = kind, entry
        self.networks = {role: load_network(folder, spec, role=role) for role, spec in entry.networks.items()}
        self.shift = np.asarray(entry.config.get("shift", [0.0, 0.0]), np.float32)
        self.scale = np.asarray(entry.config.get("scale", [1.0, 1.0]), np.float32)

    def log_prob(self, x: np.ndarray, k: int = 64, seed: int = 0, chunk: int = 8192) -> np.ndarray:
        """log p(x), nats per point; for the VAE an importance-sampled estimate with k samples."""
        x = np.asarray(x, np.float32).reshape(len(x), -1)
        if self.kind != "vae":
            return self.networks["log_prob"](x)["log_prob"]
        rng = np.random.default_rng(seed)
        step = max(1, chunk // k)
        return np.concatenate([self._vae_log_prob(x[s : s + step], k, rng) for s in range(0, len(x), step)])

    def _vae_log_prob(self, x: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
        u = (x - self.shift) / self.scale
        enc = self.networks["encoder"](u)
        mu, logvar = enc["mu"], enc["logvar"]
        eps = rng.standard_normal((k, *mu.shape)).astype(np.float32)
        z = mu + eps * np.exp(0.5 * logvar)
        log_q = diagonal_gaussian_log_prob(eps, 0.0) - 0.5 * logvar.sum(-1)
        log_pz = diagonal_gaussian_log_prob(z, 0.0)
        dec = self.networks["decoder"](z.reshape(-1, z.shape[-1]))
        log_px = diagonal_gaussian_log_prob(u, dec["mean"].reshape(k, -1, 2), dec["logvar"].reshape(k, -1, 2))
        return log_mean_exp(log_px + log_pz - log_q - np.log(self.scale).sum(), axis=0)

    # ---- a diffusion model on points: no density, a score and a reverse process ----------------------------
    def _abar(self) -> tuple[np.ndarray, np.ndarray]:
        c = self.entry.config
        betas = np.linspace(float(c["beta_start"]), float(c["beta_end"]), int(c["timesteps"]))
        return betas, np.cumprod(1 - betas)

    def score(self, x: np.ndarray, t: int) -> np.ndarray:
        """grad log q_t at points x (data units) for step index t: -eps / sqrt(1 - abar_t), back in data units."""
        _, abar = self._abar()
        u = ((np.asarray(x, np.float32) - self.shift) / self.scale).astype(np.float32)
        eps = self.networks["eps"](u, np.full(len(u), t, np.float32))["eps"]
        return -eps / np.sqrt(1 - abar[t]) / self.scale

    def trajectories(self, n: int, seed: int = 0, method: str = "ddpm") -> np.ndarray:
        """The reverse process from noise, every step kept: (T + 1, n, 2) in data units, the noise first. DDPM
        (ancestral: fresh noise at every step) or DDIM (deterministic: the smooth path of each starting point)."""
        betas, abar = self._abar()
        rng = np.random.default_rng(seed)
        u = rng.standard_normal((n, 2)).astype(np.float32)
        path = [u]
        for t in range(len(betas) - 1, -1, -1):
            eps = self.networks["eps"](u, np.full(n, t, np.float32))["eps"]
            a_prev = abar[t - 1] if t > 0 else 1.0
            u0 = (u - np.sqrt(1 - abar[t]) * eps) / np.sqrt(abar[t])
            if method == "ddim":
                u = (np.sqrt(a_prev) * u0 + np.sqrt(1 - a_prev) * eps).astype(np.float32)
            else:
                mean = (np.sqrt(a_prev) * betas[t] * u0 + np.sqrt(1 - betas[t]) * (1 - a_prev) * u) / (1 - abar[t])
                var = betas[t] * (1 - a_prev) / (1 - abar[t])
                u = (mean + (np.sqrt(var) * rng.standard_normal(u.shape) if t > 0 else 0.0)).astype(np.float32)
            path.append(u)
        return np.stack(path) * self.scale + self.shift

    def sample(self, n: int, seed: int = 0) -> np.ndarray:
        rng = np.random.default_rng(seed)
        if self.kind == "diffusion":
            return self.trajectories(n, seed)[-1]
        if self.kind == "vae":
            z = rng.standard_normal((n, 2)).astype(np.float32)
            dec = self.networks["decoder"](z)
            u = dec["mean"] + np.exp(0.5 * dec["logvar"]) * rng.standard_normal((n, 2)).astype(np.float32)
            return u * self.scale + self.shift
        width = int(self.entry.networks["sample"].inputs[0].shape[1])
        if self.kind == "flow":
            noise = rng.standard_normal((n, width))
        elif self.kind == "mixture":
            noise = np.concatenate([rng.random((n, 1)), rng.standard_normal((n, width - 1))], 1)
        else:  # autoregressive: uniform and normal for x1, then for x2
            noise = np.stack([rng.random(n), rng.standard_normal(n), rng.random(n), rng.standard_normal(n)], 1)
        net = self.networks["sample"]
        return net(noise.astype(np.float32))[net.output_names[0]]


class GeneratorSamples:
    """The GAN lab's generator for a toy set: no density, only samples (z ~ N(0, I) -> G(z))."""

    kind = "gan"

    def __init__(self, spec: NetworkSpec, folder: Path | None = None):
        self.spec = spec
        self.network = load_network(Path(folder) if folder is not None else exported_dir(), spec, role="generator")
        self.z_dim = int(spec.inputs[0].shape[1])

    def sample(self, n: int, seed: int = 0) -> np.ndarray:
        z = np.random.default_rng(seed).standard_normal((n, self.z_dim)).astype(np.float32)
        return self.network(z)["x"]


def trained_networks(dataset: str, card: DensityCard, lab_card: GanLabCard | None) -> dict[str, dict[str, NetworkSpec]]:
    """The networks of the shipped models for a 2-D toy set, {kind: {role: spec}}, as their cards list them."""
    entry = card.datasets_2d.get(dataset)
    networks = {kind: dict(info.networks) for kind, info in (entry.models if entry else {}).items()}
    for run in lab_card.runs if lab_card else ():
        if run.dataset == dataset and run.setting == "stable" and run.generator is not None:
            networks["gan"] = {"generator": run.generator}
    return networks


def check_trained(dataset: str, card: DensityCard, lab_card: GanLabCard | None, folder: Path | None = None):
    """The shipped models for a 2-D toy set whose files are there and match their cards, {kind: {role: spec}},
    and messages for those that do not; without loading them (a sha256 each, no onnxruntime session)."""
    folder = Path(folder) if folder is not None else exported_dir()
    usable, problems = {}, []
    for kind, networks in trained_networks(dataset, card, lab_card).items():
        try:
            for role, spec in networks.items():
                check_file(folder / spec.file, spec.sha256, role)
            usable[kind] = networks
        except ModelFileError as err:
            problems.append(f"{kind}: {err}")
    return usable, problems


def load_one(dataset: str, kind: str, card: DensityCard, lab_card: GanLabCard | None, folder: Path | None = None):
    """One shipped model of a 2-D toy set (ModelFileError if its files cannot be used, KeyError if there is none)."""
    if kind == "gan":
        return GeneratorSamples(trained_networks(dataset, card, lab_card)["gan"]["generator"], folder)
    return TrainedDensity(kind, card.datasets_2d[dataset].models[kind], folder)


def load_trained(dataset: str, card: DensityCard, lab_card: GanLabCard | None, folder: Path | None = None):
    """The shipped models for a 2-D toy set: {kind: model}, and messages for those that fail to load."""
    models, problems = {}, []
    for kind in trained_networks(dataset, card, lab_card):
        try:
            models[kind] = load_one(dataset, kind, card, lab_card, folder)
        except ModelFileError as err:
            problems.append(f"{kind}: {err}")
    return models, problems


def grid_log_density(fn, cells: int = 200, extent: float = 4.0) -> tuple[np.ndarray, np.ndarray]:
    """fn evaluated on a cells x cells grid over [-extent, extent]^2: (ticks, (cells, cells) values, rows = y)."""
    ticks = np.linspace(-extent, extent, cells, dtype=np.float32)
    xx, yy = np.meshgrid(ticks, ticks)
    values = fn(np.stack([xx.ravel(), yy.ravel()], 1).astype(np.float32))
    return ticks, np.asarray(values, np.float64).reshape(cells, cells)
