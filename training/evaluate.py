"""Every figure in a model card, computed through the exported ONNX files by one code path.

The evaluation reads a model the way the app does (``inference``: the ONNX networks and the
app-side class behind the one protocol), so what a card says is what the app computes, and
the test split is read here and nowhere in training or model selection:

* likelihoods, in nats per image on the fixed binary test split with their standard error
  over the test images: exact (the chain rule) or, for a VAE, the IWAE bound at several k,
  the largest of which is the headline and gives the per-image figures the app shows;
* sample quality through every judge (the CNN classifier and the MLP): the Frechet classifier
  distance (FCD) of 1,000 samples to the test split, mean and standard deviation over five
  sample seeds, with a 95% bootstrap interval over the test images; class accuracy for
  class-conditional models; for each judge, the floor: as many real train digits as samples;
* the rest of what a family reports (reconstruction, ELBO terms, the discriminator's view,
  a classifier's accuracy) and what a model costs (sampling time, file size).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import platform
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from inference.base import OnnxModel
from inference.cards import (
    BoundAtK,
    Comparison,
    FcdFloor,
    Metrics,
    ModelCard,
    SampleQuality,
    StepsPoint,
    load_model_card,
)
from inference.metrics import frechet_distance, frechet_from_stats, reference_kind, sample_images
from inference.numeric import bits_per_dim, softmax
from inference.registry import model_from_card
from training import data as data_lib

JUDGES = ("classifier", "mlp_classifier")  # the sample-quality judges, evaluated first: the others use them


@dataclass(frozen=True)
class Protocol:
    """How much evaluation: sample sizes, seeds and bootstrap draws (QUICK for tests on tiny data)."""

    samples: int = 1000  # per seed, for FCD; the floor uses as many real digits
    seeds: tuple[int, ...] = (0, 1, 2, 3, 4)
    iwae_ks: tuple[int, ...] = (200, 1000, 5000)  # the last is the headline
    bootstrap: int = 200  # resamplings of the test images for the FCD interval
    judges: tuple[str, ...] = JUDGES
    diffusion_steps: tuple[int, ...] = (10, 25, 50, 100, 1000)  # a diffusion model's FCD-against-steps curve
    # per point of that curve (one seed). 200, not 1,000: ancestral sampling at 1,000 steps with guidance is 2 million
    # denoiser calls for 1,000 samples, about an hour and a half on two CPU cores. FCD at 200 samples is higher than
    # at 1,000 (the sample-size bias), so the curve compares steps with each other, not with the headline figure.
    curve_samples: int = 200


FULL = Protocol()  # what the shipped cards are computed with
QUICK = Protocol(samples=200, seeds=(0, 1), iwae_ks=(4, 8), bootstrap=20, diffusion_steps=(2, 4), curve_samples=50)


@dataclass(frozen=True)
class TestSet:
    """The test split as every figure reads it: grayscale in [0, 1] and the fixed binarization."""

    gray: np.ndarray  # (N, H, W) float32
    binary: np.ndarray  # (N, H, W) float32 in {0, 1}
    labels: np.ndarray  # (N,)
    description: str  # of the binary track
    name: str = "test split"

    def images(self, image_kind: str) -> np.ndarray:
        """What a model of this kind is scored on: the fixed binarization, or the 8-bit intensities / 255."""
        return self.binary if image_kind == "binary" else self.gray

    def describe(self, image_kind: str) -> str:
        if image_kind == "binary":
            return self.description
        return f"{self.name}, 8-bit grayscale (pixel values 0-255, not binarized)"

    @classmethod
    def of(cls, ds: data_lib.Dataset) -> TestSet:
        name = f"{ds.name} test split ({len(ds.test)} images)"
        return cls(
            ds.test.images / np.float32(255),
            data_lib.binarize_fixed(ds.test.images).astype(np.float32),
            ds.test.labels,
            f"{name}, binarized by {data_lib.TEST_BINARIZATION}",
            name,
        )


def _mean_and_error(per_image: np.ndarray) -> tuple[float, float]:
    """The mean over the test images and its standard error."""
    return float(per_image.mean()), float(per_image.std(ddof=1) / np.sqrt(len(per_image)))


NLL_METHODS = {
    "autoregressive": "exact (chain rule)",
    "flow": "exact change of variables; the 8-bit probability bounded below by one uniform dequantization (seed 0)",
    "diffusion": "variational bound of Ho et al. (discretized decoder at t = 1); the KL terms estimated from 100 "
    "steps, one in each of 100 equal strata of the 999, for the null class",
}


def likelihood_figures(model: OnnxModel, test: TestSet, protocol: Protocol) -> dict:
    """-log p(x) on the model's track of the test split (the fixed binarization, or 8-bit), through its own log_prob."""
    kind = model.capabilities.image_kind
    x = test.images(kind)
    figures = {"likelihood_track": "binary" if kind == "binary" else "8-bit", "test_split": test.describe(kind)}
    if hasattr(model, "iwae_k"):  # a VAE: the IWAE bound at each k, one draw (seed 0); the largest k is the headline
        bounds = []
        for k in protocol.iwae_ks:
            per_image = -model.log_prob(x, k=k, seed=0)
            bounds.append(BoundAtK(k, *_mean_and_error(per_image)))
        figures |= {
            "nll_method": f"IWAE bound, k={protocol.iwae_ks[-1]}",
            "iwae_k": protocol.iwae_ks[-1],
            "iwae": tuple(bounds),
        }
        log_px_z, kl = model.elbo_terms(x, seed=0)
        figures |= {"elbo_nats": float((log_px_z - kl).mean()), "kl_nats": float(kl.mean())}
    else:
        per_image = -model.log_prob(x)
        figures["nll_method"] = NLL_METHODS.get(model.family, model.density)
        if model.conditional and model.family == "autoregressive":
            figures["nll_method"] += ", classes marginalized: -log (1/K) sum_y p(x | y)"
            figures["conditional_nll_nats"] = float(-model.log_prob(x, labels=test.labels).mean())
    nll, error = _mean_and_error(per_image)
    return figures | {
        "nll_nats": nll,
        "nll_standard_error": error,
        "bits_per_dim": float(bits_per_dim(nll, test.binary[0].size)),
        "test_nll_per_image": tuple(round(float(v), 3) for v in per_image),
    }


def encoder_figures(model: OnnxModel, test: TestSet) -> dict:
    """Reconstruction error of the fixed binary test digits under a Bernoulli decoder: cross-entropy, nats per
    image (a flow reconstructs exactly: it has none)."""
    if model.capabilities.image_kind != "binary":
        return {}
    return {"recon_nats": float(model.reconstruction_error(test.binary).mean())}


def discriminator_figures(model: OnnxModel, test: TestSet, batch: int = 100) -> dict:
    """The discriminator's mean D(x) on the test digits and on as many samples, scored in batches of a fixed
    size (with its minibatch-stddev feature, D scores an image partly by the rest of its batch)."""
    fakes = model.sample(len(test.gray), 0)
    labels = model.class_labels(None, len(test.gray))

    def mean_d(images, y):
        parts = [
            model.realness(images[s : s + batch], None if y is None else y[s : s + batch])
            for s in range(0, len(images), batch)
        ]
        return float(np.concatenate(parts).mean())

    return {"d_test": mean_d(test.gray, test.labels if model.conditional else None), "d_samples": mean_d(fakes, labels)}


def classifier_figures(model: OnnxModel, test: TestSet, ds: data_lib.Dataset, protocol: Protocol) -> dict:
    """A judge's test accuracy, and its floor: the FCD of as many real train digits as a model's samples."""
    logits = model.run(test.gray)[0]
    p = softmax(logits)[np.arange(len(test.labels)), test.labels]
    figures = {
        "test_split": f"grayscale {test.description.split(',')[0]}",
        "test_accuracy": float((logits.argmax(1) == test.labels).mean()),
        "test_cross_entropy_nats": float(-np.log(np.maximum(p, 1e-30)).mean()),
    }
    if ds.image_size != 28 or len(ds.train) < protocol.samples:
        return figures
    gray = ds.train.images / np.float32(255)
    binary = data_lib.binarize_fixed(ds.train.images).astype(np.float32)
    real = {"grayscale": model.features(test.gray), "binary": model.features(test.binary)}
    floors: dict[str, list[float]] = {"grayscale": [], "binary": []}
    for seed in protocol.seeds:
        idx = np.random.default_rng(seed).choice(len(gray), protocol.samples, replace=False)
        floors["grayscale"].append(frechet_distance(model.features(gray[idx]), real["grayscale"]))
        floors["binary"].append(frechet_distance(model.features(binary[idx]), real["binary"]))
    many = len(protocol.seeds) > 1
    figures["fcd_floor"] = FcdFloor(
        grayscale=float(np.mean(floors["grayscale"])),
        binary=float(np.mean(floors["binary"])),
        samples=protocol.samples,
        seeds=protocol.seeds,
        grayscale_std=float(np.std(floors["grayscale"], ddof=1)) if many else None,
        binary_std=float(np.std(floors["binary"], ddof=1)) if many else None,
        note=f"{protocol.samples:,} real train digits per seed (fixed binarization for the binary floor) "
        "against the test split: what real digits score with as many images as a model's samples",
    )
    return figures


def _stats(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    f = np.asarray(features, np.float64)
    return f.mean(0), np.cov(f, rowvar=False)


def sample_quality(
    model: OnnxModel, judge: OnnxModel, test: TestSet, protocol: Protocol, drawn: dict | None = None
) -> SampleQuality:
    """FCD of ``protocol.samples`` samples per seed to the test split in the judge's features: the mean over
    seeds, its spread, and a 95% bootstrap interval of that mean over resamplings of the test images;
    for a conditional model (classes 0-9 in turn) how often the judge sees the class asked for.

    The interval is the normal one, mean +- 1.96 bootstrap standard deviations. Percentiles would not do:
    a resample of the 500 test images holds each about 0.63 times, so its covariance is noisier and every
    resampled FCD is larger (a Frechet distance is biased upward at small n); the percentile interval of
    the cGAN's figure, 178.8, was [180, 254], not containing it. The spread of the resampled FCDs is what
    the interval takes from them.

    ``drawn`` keeps each seed's samples for the next judge: the same seed draws the same images, and a
    diffusion model's 5,000 samples take most of its evaluation."""
    n = protocol.samples
    drawn = {} if drawn is None else drawn
    labels = np.arange(n) % model.num_classes if model.conditional else None
    reference = reference_kind(model)
    real = judge.features(test.binary if "binary" in reference else test.gray)
    sample_stats, fcds, accuracies = [], [], []
    for seed in protocol.seeds:
        if seed not in drawn:
            drawn[seed] = sample_images(model, n, seed, labels)
        logits, features = judge.run(drawn[seed])
        sample_stats.append(_stats(features))
        fcds.append(frechet_from_stats(*sample_stats[-1], *_stats(real)))
        if labels is not None:
            accuracies.append(float((logits.argmax(1) == labels).mean()))
    rng = np.random.default_rng(0)
    boot = []
    for _ in range(protocol.bootstrap):
        resampled = _stats(real[rng.integers(len(real), size=len(real))])
        boot.append(np.mean([frechet_from_stats(*s, *resampled) for s in sample_stats]))
    many = len(protocol.seeds) > 1
    return SampleQuality(
        judge=judge.name,
        reference=reference,
        samples=n,
        seeds=protocol.seeds,
        fcd=float(np.mean(fcds)),
        fcd_std=float(np.std(fcds, ddof=1)) if many else None,
        fcd_interval=_normal_interval(float(np.mean(fcds)), boot),
        class_accuracy=float(np.mean(accuracies)) if accuracies else None,
        class_accuracy_std=float(np.std(accuracies, ddof=1)) if accuracies and many else None,
    )


def _normal_interval(estimate: float, bootstrap: list[float]) -> tuple[float, float] | None:
    if len(bootstrap) < 2:
        return None
    half = 1.96 * float(np.std(bootstrap, ddof=1))
    return (estimate - half, estimate + half)


def steps_curve(model: OnnxModel, judge: OnnxModel, test: TestSet, protocol: Protocol) -> tuple[StepsPoint, ...]:
    """A diffusion model's FCD (the CNN judge, one seed) and class accuracy against the number of sampling steps:
    DDIM at each count below the model's T, ancestral DDPM at T."""
    n = protocol.curve_samples
    labels = np.arange(n) % model.num_classes
    real = judge.features(test.gray)
    points = []
    for steps in protocol.diffusion_steps:
        method = "ddpm" if steps >= model.timesteps else "ddim"
        start = time.perf_counter()
        parts = [
            model.sample(min(250, n - s), s, labels=labels[s : s + 250], steps=steps, method=method)
            for s in range(0, n, 250)
        ]
        seconds = (time.perf_counter() - start) / n
        logits, features = judge.run(np.concatenate(parts))
        points.append(
            StepsPoint(
                steps=int(model.timesteps if method == "ddpm" else steps),
                sampler=method,
                fcd=frechet_distance(features, real),
                samples=n,
                seconds_per_image=seconds,
                class_accuracy=float((logits.argmax(1) == labels).mean()),
            )
        )
    return tuple(points)


def sampling_seconds(model: OnnxModel, n: int, repeats: int = 3) -> float:
    """Median wall time for the app's sampler to draw n images (its fast sampler if it has one)."""
    model.sample(min(n, 2), 0)  # warm up
    times = []
    for r in range(repeats):
        start = time.perf_counter()
        model.sample(n, r)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _judges(export_dir: Path, image_size: int, protocol: Protocol) -> list[OnnxModel]:
    """The judges exported so far, for images of this size."""
    judges = []
    for name in protocol.judges:
        path = Path(export_dir) / f"{name}.json"
        if path.is_file():
            card = load_model_card(path)
            if int(card.config["image_size"]) == image_size:
                judges.append(model_from_card(card, Path(export_dir)))
    return judges


def evaluate(card: ModelCard, export_dir: Path, ds: data_lib.Dataset, protocol: Protocol = FULL) -> ModelCard:
    """The card with every figure (re)computed through its exported networks in ``export_dir``."""
    export_dir = Path(export_dir)
    test = TestSet.of(ds)
    can = model_from_card(card, export_dir).capabilities
    figures: dict = {"test_split": test.describe(can.image_kind)}
    if can.has_encoder and not can.has_prior:
        # An autoencoder samples codes from a Gaussian fitted to its training codes: fit it first.
        model = model_from_card(card, export_dir)
        codes = model.encode(data_lib.binarize_fixed(ds.train.images).astype(np.float32))
        figures |= {"code_mean": tuple(codes.mean(0).tolist()), "code_std": tuple(codes.std(0, ddof=1).tolist())}
    card = dataclasses.replace(card, metrics=Metrics(**figures))
    model = model_from_card(card, export_dir)
    if can.has_likelihood:
        figures |= likelihood_figures(model, test, protocol)
    if can.has_encoder:
        figures |= encoder_figures(model, test)
    if card.architecture == "gan":
        figures |= discriminator_figures(model, test)
    if not can.generative:
        figures |= classifier_figures(model, test, ds, protocol)
    comparison = Comparison(
        onnx_bytes=int(sum(net.bytes for net in card.networks.values())),
        measured_on=f"{platform.machine()}, {os.cpu_count()} CPU cores, {dt.date.today().isoformat()}",
    )
    if can.generative:
        judges = _judges(export_dir, ds.image_size, protocol)
        drawn: dict = {}  # one set of samples per seed, judged by each judge
        figures["sample_quality"] = {j.name: sample_quality(model, j, test, protocol, drawn) for j in judges}
        del drawn
        if can.family == "diffusion" and judges:
            figures["steps_curve"] = steps_curve(model, judges[0], test, protocol)
        sampler = model.fast_sampler if can.can_complete else "one pass"
        if can.family == "diffusion":
            sampler = f"DDIM, 50 steps, guidance {model.guidance:g}"
        comparison = dataclasses.replace(
            comparison,
            sampler=sampler,
            sample_seconds_16=sampling_seconds(model, 16),
            sample_seconds_64=sampling_seconds(model, 64),
        )
    return dataclasses.replace(card, metrics=Metrics(**figures), comparison=comparison)


def evaluate_exported(names: list[str] | None, export_dir: Path, protocol: Protocol = FULL) -> list[Path]:
    """Recompute every figure of the given (default: all) exported model cards from their ONNX files and the
    data they name, and write the cards back. The judges go first: the others' figures use them."""
    from training.artifacts import write_card

    export_dir = Path(export_dir)
    if not names:
        names = [p.stem for p in sorted(export_dir.glob("*.json")) if _is_model_card(p)]
    names = sorted(
        names, key=lambda n: (n not in protocol.judges, protocol.judges.index(n) if n in protocol.judges else 0)
    )
    written = []
    for name in names:
        path = export_dir / f"{name}.json"
        card = load_model_card(path)
        card = evaluate(card, export_dir, data_lib.load(card.data["name"]), protocol)
        written.append(write_card(path, dataclasses.replace(card, evaluated=dt.date.today().isoformat())))
    return written


def _is_model_card(path: Path) -> bool:
    from inference.cards import is_model_card, read_json

    return is_model_card(read_json(path))
