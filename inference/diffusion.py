"""A diffusion model on the app side: the exported denoiser, one call per step, and the samplers around it.

The forward process is fixed by the schedule in the card (T steps, b_t linear):

    x_t = sqrt(abar_t) x_0 + sqrt(1 - abar_t) eps,    abar_t = prod_{s <= t} (1 - b_s).

The network predicts eps from (x_t, t, class); the class is one-hot over 11 columns, the last the null class
of classifier-free guidance, eps = eps(x_t, null) + s (eps(x_t, y) - eps(x_t, null)). From a prediction of
eps follows one of x_0, x0_hat = (x_t - sqrt(1 - abar_t) eps) / sqrt(abar_t), and each sampler steps toward it:

* DDIM (Song et al. 2021, eta = 0): deterministic, any S of the T steps;
* DDPM (Ho et al. 2020): ancestral, all T steps, x_{t-1} ~ q(x_{t-1} | x_t, x0_hat).

Pixels are in [-1, 1] inside; images come out as intensities in [0, 1]. The likelihood is the variational
bound of Ho et al. in nats per 8-bit image, estimated over a stratified subset of the timesteps.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from inference.base import OnnxModel, as_batch
from inference.numeric import one_hot

# on_step(step_index, steps, x_t, x0_hat): after each step, for progress and the step-through page
StepCallback = Callable[[int, int, np.ndarray, np.ndarray], None]
SAMPLERS = {"ddim": "DDIM (deterministic, any number of steps)", "ddpm": "DDPM (ancestral, every step)"}
DEFAULT_STEPS = 50


def _normal_cdf(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(np.sqrt(2.0 / np.pi) * (x + 0.044715 * x**3)))  # Ho et al.'s approximation


class Diffusion(OnnxModel):
    image_kind = "grayscale"
    sample_kind = "grayscale"
    has_prior = True  # x_T ~ N(0, I): the temperature scales it

    # ---- the schedule --------------------------------------------------------------------------------------
    @property
    def timesteps(self) -> int:
        return int(self.card.config["timesteps"])

    @property
    def betas(self) -> np.ndarray:
        c = self.card.config
        return np.linspace(float(c["beta_start"]), float(c["beta_end"]), self.timesteps, dtype=np.float64)

    @property
    def alpha_bar(self) -> np.ndarray:
        return np.cumprod(1.0 - self.betas)

    @property
    def guidance(self) -> float:
        """The guidance scale chosen on the validation split (the card's)."""
        return float(self.card.config.get("guidance", 1.0))

    def noised(self, x0: np.ndarray, t: int, seed: int = 0) -> np.ndarray:
        """The forward process: q(x_t | x_0) for images in [0, 1], returned as intensities (clipped for display)."""
        x0 = as_batch(x0, self.image_size)[:, 0] * 2.0 - 1.0
        abar = self.alpha_bar[int(t)]
        eps = np.random.default_rng(seed).standard_normal(x0.shape)
        return np.clip((math.sqrt(abar) * x0 + math.sqrt(1 - abar) * eps + 1) / 2, 0, 1).astype(np.float32)

    # ---- the denoiser ----------------------------------------------------------------------------------------
    def eps(self, x: np.ndarray, t: int, labels: np.ndarray | None, guidance: float) -> np.ndarray:
        """The (guided) noise prediction at step index t (0..T-1) for x (N, 1, H, W) in [-1, 1]."""
        n = len(x)
        null = np.full(n, self.num_classes)
        k = self.num_classes + 1
        if labels is None or guidance == 0.0:  # p(x): the null class alone
            return self.networks["denoiser"](x, np.full(n, t, np.float32), one_hot(null, k))["eps"]
        y = one_hot(np.concatenate([labels, null]), k)
        both = self.networks["denoiser"](np.concatenate([x, x]), np.full(2 * n, t, np.float32), y)["eps"]
        cond, uncond = both[:n], both[n:]
        return uncond + guidance * (cond - uncond)

    def x0_hat(self, x: np.ndarray, t: int, eps: np.ndarray) -> np.ndarray:
        abar = self.alpha_bar[t]
        return np.clip((x - math.sqrt(1 - abar) * eps) / math.sqrt(abar), -1.0, 1.0)

    # ---- sampling -------------------------------------------------------------------------------------------
    def schedule(self, steps: int, method: str = "ddim") -> np.ndarray:
        """The step indices a sampler visits, from the noisiest down: every one for DDPM, S evenly spaced for DDIM."""
        if method == "ddpm":
            return np.arange(self.timesteps)[::-1]
        steps = int(min(max(steps, 1), self.timesteps))
        return np.linspace(self.timesteps - 1, 0, steps).round().astype(int)  # one step: from the noisiest

    def _start(self, rng: np.random.Generator, n: int, temperature: float) -> np.ndarray:
        S = self.image_size
        return (temperature * rng.standard_normal((n, 1, S, S))).astype(np.float32)

    def start_noise(self, n: int, seed: int, temperature: float = 1.0) -> np.ndarray:
        """x_T for a seed, (n, 1, H, W) float32: the noise :meth:`sample` starts from (for the browser's sampler)."""
        return self._start(np.random.default_rng(seed), n, temperature)

    def ddim_plan(self, n: int, steps: int = DEFAULT_STEPS, labels=None, guidance: float | None = None) -> dict:
        """What DDIM needs besides x_T, as the browser's sampler takes it (app/browser/samplers.js: sampleDDIM): each
        step's index t with a = sqrt(abar_t), s = sqrt(1 - abar_t) and the same of the step after it (1 and 0 after the
        last), the labels and the guidance scale, exactly the numbers :meth:`sample` uses."""
        ts = self.schedule(steps, "ddim")
        abar = self.alpha_bar
        labels = self.class_labels(labels, n)
        plan = []
        for i, t in enumerate(ts):
            a_prev = abar[ts[i + 1]] if i + 1 < len(ts) else 1.0
            plan.append(
                {
                    "t": int(t),
                    "a": math.sqrt(abar[t]),
                    "s": math.sqrt(1 - abar[t]),
                    "aPrev": math.sqrt(a_prev),
                    "sPrev": math.sqrt(1 - a_prev),
                }
            )
        return {
            "steps": plan,
            "labels": None if labels is None else labels.tolist(),
            "guidance": self.guidance if guidance is None else float(guidance),
            "num_classes": self.num_classes,
            "image_size": self.image_size,
        }

    def sample(
        self,
        n: int,
        seed: int,
        *,
        temperature: float = 1.0,
        labels=None,
        steps: int = DEFAULT_STEPS,
        method: str = "ddim",
        guidance: float | None = None,
        on_step: StepCallback | None = None,
    ) -> np.ndarray:
        """n images in [0, 1]. ``temperature`` scales the starting noise x_T; a conditional draw gets classes 0,
        1, 2, ... unless given labels; ``guidance`` defaults to the scale chosen on validation."""
        if method not in SAMPLERS:
            raise ValueError(f"method must be one of {', '.join(SAMPLERS)}, got {method!r}")
        labels = self.class_labels(labels, n)
        guidance = self.guidance if guidance is None else float(guidance)
        rng = np.random.default_rng(seed)
        x = self._start(rng, n, temperature)
        ts = self.schedule(steps, method)
        abar, betas = self.alpha_bar, self.betas
        for i, t in enumerate(ts):
            eps = self.eps(x, int(t), labels, guidance)
            x0 = self.x0_hat(x, int(t), eps)
            if method == "ddim":
                eps = (x - math.sqrt(abar[t]) * x0) / math.sqrt(1 - abar[t])  # consistent with the clipped x0
                a_prev = abar[ts[i + 1]] if i + 1 < len(ts) else 1.0
                x = math.sqrt(a_prev) * x0 + math.sqrt(1 - a_prev) * eps
            else:  # the posterior q(x_{t-1} | x_t, x0_hat) of Ho et al., with its variance b~_t
                a_prev = abar[t - 1] if t > 0 else 1.0
                mean = (math.sqrt(a_prev) * betas[t] * x0 + math.sqrt(1 - betas[t]) * (1 - a_prev) * x) / (1 - abar[t])
                var = betas[t] * (1 - a_prev) / (1 - abar[t])
                x = mean + (math.sqrt(var) * rng.standard_normal(x.shape) if t > 0 else 0.0)
            x = x.astype(np.float32)
            if on_step:
                on_step(i, len(ts), x, x0)
        return np.clip((x[:, 0] + 1) / 2, 0.0, 1.0)

    # ---- the likelihood bound ---------------------------------------------------------------------------------
    def log_prob(self, x: np.ndarray, *, terms: int = 100, seed: int = 0) -> np.ndarray:
        """A lower bound on log p(x) of 8-bit images (x in [0, 1]), nats per image: minus Ho et al.'s L_vlb, with
        the reverse variance b~_t (b~_2 at t = 1) and a discretized Gaussian decoder at t = 1. The sum over t of
        the KL terms is estimated from ``terms`` steps, one in each of as many equal strata of 2..T (unbiased),
        for the null class: of p(x), with the class summed out by the model itself."""
        x0 = np.round(as_batch(x, self.image_size) * 255) / 127.5 - 1.0  # exactly on the 8-bit grid in [-1, 1]
        n, T = len(x0), self.timesteps
        abar, betas = self.alpha_bar, self.betas
        abar_prev = np.concatenate([[1.0], abar[:-1]])
        post_var = betas * (1 - abar_prev) / (1 - abar)
        post_var[0] = post_var[1]  # clipped as in Nichol and Dhariwal: b~_1 is 0
        rng = np.random.default_rng(seed)
        total = np.zeros(n)
        # L_T: KL(q(x_T | x_0) || N(0, I)), in closed form
        mean_T, var_T = math.sqrt(abar[-1]) * x0, 1 - abar[-1]
        total += (0.5 * (var_T + mean_T**2 - 1 - math.log(var_T))).reshape(n, -1).sum(1)
        # sum over t = 2..T of KL(q(x_{t-1} | x_t, x_0) || p(x_{t-1} | x_t)), stratified over the step indices 1..T-1
        edges = np.unique(np.linspace(1, T, min(terms, T - 1) + 1).round().astype(int))
        for lo, hi in zip(edges[:-1], edges[1:], strict=True):  # the step indices lo..hi-1, one drawn for all
            t, weight = int(rng.integers(lo, hi)), hi - lo
            eps = rng.standard_normal(x0.shape)
            xt = (math.sqrt(abar[t]) * x0 + math.sqrt(1 - abar[t]) * eps).astype(np.float32)
            pred = self.eps(xt, t, None, 0.0)
            x0_pred = (xt - math.sqrt(1 - abar[t]) * pred) / math.sqrt(abar[t])  # not clipped: the bound's own mean

            def posterior_mean(x_start, t=t, xt=xt):
                a_prev = abar[t - 1]
                return (math.sqrt(a_prev) * betas[t] * x_start + math.sqrt(1 - betas[t]) * (1 - a_prev) * xt) / (
                    1 - abar[t]
                )

            kl = (posterior_mean(x0) - posterior_mean(x0_pred)) ** 2 / (2 * post_var[t])
            total += weight * kl.reshape(n, -1).sum(1)
        # L_0: -log p(x_0 | x_1), a Gaussian discretized to the 256 bins of width 2/255
        eps = rng.standard_normal(x0.shape)
        x1 = (math.sqrt(abar[0]) * x0 + math.sqrt(1 - abar[0]) * eps).astype(np.float32)
        x0_pred = (x1 - math.sqrt(1 - abar[0]) * self.eps(x1, 0, None, 0.0)) / math.sqrt(abar[0])
        sd = math.sqrt(post_var[0])
        upper = np.where(x0 > 0.999, 1.0, _normal_cdf((x0 + 1 / 255 - x0_pred) / sd))
        lower = np.where(x0 < -0.999, 0.0, _normal_cdf((x0 - 1 / 255 - x0_pred) / sd))
        total += -np.log(np.maximum(upper - lower, 1e-12)).reshape(n, -1).sum(1)
        return -total
