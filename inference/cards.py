"""Typed cards: what exported/ says about each model and study, parsed and checked once.

A model card ``exported/<name>.json`` names the model, its family and what it gives for
log p(x), its config, the data and training it came from, its figures, and each ONNX network
with its sha256 and tensor names. Study cards (``density.json``, ``ganlab.json``,
``features.json``) describe the toy-density models, the GAN lab's snapshots and the
few-label study. The exporter writes cards through these types and the registry reads them
through them, so a figure has one spelling everywhere; a malformed card is refused with a
message that names the file and the field.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DENSITY_KINDS = ("exact", "bound", "none")


class CardError(ValueError):
    """A card that cannot be used; the message names the file and the field."""


# ---- parsing ------------------------------------------------------------------------------------


def _parse(cls, value: Any, where: str):
    """``value`` (parsed JSON) as an instance of the dataclass ``cls``; every field type-checked."""
    if not isinstance(value, dict):
        raise CardError(f"{where}: expected an object, got {type(value).__name__}")
    hints = typing.get_type_hints(cls)
    known = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(value) - set(known))
    if unknown:
        raise CardError(f"{where}: unknown field {unknown[0]!r}")
    kwargs = {}
    for name, f in known.items():
        if name in value:
            kwargs[name] = _convert(hints[name], value[name], f"{where}.{name}")
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise CardError(f"{where}: the field {name!r} is missing")
    return cls(**kwargs)


def _convert(tp, value: Any, where: str):
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        errors = []
        for arg in (a for a in args if a is not type(None)):
            try:
                return _convert(arg, value, where)
            except CardError as err:
                errors.append(str(err))
        raise CardError(errors[0] if errors else f"{where}: unexpected null")
    if dataclasses.is_dataclass(tp):
        return _parse(tp, value, where)
    if tp is Any:
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise CardError(f"{where}: expected a number, got {value!r}"[:200])
        return float(value)
    if tp in (int, str, bool):
        if not isinstance(value, tp) or (tp is int and isinstance(value, bool)):
            raise CardError(f"{where}: expected {tp.__name__}, got {value!r}"[:200])
        return value
    if origin is dict:
        if not isinstance(value, dict):
            raise CardError(f"{where}: expected an object, got {type(value).__name__}")
        return {k: _convert(args[1], v, f"{where}.{k}") for k, v in value.items()}
    if origin in (tuple, list):
        if not isinstance(value, list):
            raise CardError(f"{where}: expected a list, got {type(value).__name__}")
        item = args[0] if args else Any
        converted = [_convert(item, v, f"{where}[{i}]") for i, v in enumerate(value)]
        return tuple(converted) if origin is tuple else converted
    if tp is dict:
        if not isinstance(value, dict):
            raise CardError(f"{where}: expected an object, got {type(value).__name__}")
        return value
    raise TypeError(f"no conversion for {tp!r}")  # a programming error in this module, not a bad card


def to_json(obj) -> Any:
    """A card (or any part of one) as plain JSON values, leaving out fields that are None."""
    if dataclasses.is_dataclass(obj):
        return {
            f.name: to_json(getattr(obj, f.name)) for f in dataclasses.fields(obj) if getattr(obj, f.name) is not None
        }
    if isinstance(obj, dict):
        return {k: to_json(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_json(v) for v in obj]
    return obj


def read_json(path: Path) -> Any:
    """A card file's JSON; CardError naming the file if it cannot be read."""
    try:
        return json.loads(Path(path).read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise CardError(f"{Path(path).name} cannot be read ({err})") from err


# ---- the parts every card shares ----------------------------------------------------------------


@dataclass(frozen=True)
class TensorSpec:
    name: str
    shape: list[Any]  # ints, or a name for a dynamic axis ("batch")
    dtype: str


@dataclass(frozen=True)
class NetworkSpec:
    """One exported ONNX graph: its file (relative to exported/), fingerprint and tensors."""

    file: str
    sha256: str
    inputs: tuple[TensorSpec, ...]
    outputs: tuple[TensorSpec, ...]
    bytes: int = 0
    parameters: int = 0

    @property
    def input_names(self) -> list[str]:
        return [t.name for t in self.inputs]

    @property
    def output_names(self) -> list[str]:
        return [t.name for t in self.outputs]


def networks_source(networks: dict[str, NetworkSpec]) -> str:
    """What a view stored at export was computed from, as the app checks it: the sha256 of each network
    ({role: NetworkSpec}), in a fixed order (inference.views, inference.density_maps)."""
    return "+".join(f"{role}:{spec.sha256}" for role, spec in sorted(networks.items()))


# ---- model cards --------------------------------------------------------------------------------


@dataclass(frozen=True)
class SampleQuality:
    """One judge's verdict on a model's samples: Frechet classifier distance (FCD) to the test split."""

    judge: str  # the classifier whose features define the distance: a model name in exported/
    reference: str  # what the samples are compared with: "grayscale test split" or "fixed binary test split"
    samples: int  # samples per seed
    seeds: tuple[int, ...]
    fcd: float  # mean over the seeds
    fcd_std: float | None = None  # standard deviation over the seeds
    fcd_interval: tuple[float, float] | None = None  # 95% bootstrap interval over the test set's features
    class_accuracy: float | None = None  # conditional models: samples the judge calls the class asked for
    class_accuracy_std: float | None = None


@dataclass(frozen=True)
class FcdFloor:
    """What real digits score against the test split in a judge's features: the floor for every FCD."""

    grayscale: float
    binary: float
    samples: int  # real train digits per draw, as many as a model's samples
    note: str
    seeds: tuple[int, ...] = (0,)
    grayscale_std: float | None = None
    binary_std: float | None = None


@dataclass(frozen=True)
class BoundAtK:
    """An importance-weighted (IWAE) bound on -log p(x) with k samples per image."""

    k: int
    nll_nats: float  # mean over the test split
    standard_error: float  # of that mean, over the test images


@dataclass(frozen=True)
class StepsPoint:
    """A diffusion model's sample quality at one number of sampling steps: the speed/quality trade-off."""

    steps: int
    sampler: str  # "ddim" or "ddpm"
    fcd: float  # the CNN judge's, one seed of ``samples`` samples
    samples: int
    seconds_per_image: float
    class_accuracy: float | None = None


@dataclass(frozen=True)
class Metrics:
    """A model's figures on the project's test split. Every likelihood is in nats per image on one of two tracks,
    the fixed binary test split or the 8-bit grayscale one, with bits/dim = nats / (784 ln 2) beside it."""

    test_split: str | None = None
    likelihood_track: str | None = None  # "binary" (the fixed binarization) or "8-bit" (grayscale): never mixed
    # likelihood models
    nll_nats: float | None = None
    nll_standard_error: float | None = None
    bits_per_dim: float | None = None
    nll_method: str | None = None
    test_nll_per_image: tuple[float, ...] | None = None  # what the app's likelihood pages show, per test digit
    conditional_nll_nats: float | None = None  # class-conditional models: -log p(x | the true class)
    # latent-variable models
    iwae_k: int | None = None
    iwae: tuple[BoundAtK, ...] | None = None  # the bound at several k, to show it has converged
    elbo_nats: float | None = None
    kl_nats: float | None = None
    # models with an encoder
    recon_nats: float | None = None  # Bernoulli cross-entropy of the reconstruction, nats per image
    code_mean: tuple[float, ...] | None = None  # an autoencoder's training codes, to draw codes from
    code_std: tuple[float, ...] | None = None
    # GANs
    d_test: float | None = None  # the discriminator's mean D(x) on the test digits
    d_samples: float | None = None  # and on as many fresh samples
    # classifiers
    test_accuracy: float | None = None
    test_cross_entropy_nats: float | None = None
    fcd_floor: FcdFloor | None = None  # a judge's floor
    # diffusion models
    steps_curve: tuple[StepsPoint, ...] | None = None
    # every model that samples: one entry per judge
    sample_quality: dict[str, SampleQuality] = field(default_factory=dict)


@dataclass(frozen=True)
class Comparison:
    """What the Compare page sets side by side besides the figures: cost in time and size."""

    onnx_bytes: int
    measured_on: str  # the machine and date the times were measured on
    sampler: str | None = None
    sample_seconds_16: float | None = None
    sample_seconds_64: float | None = None


@dataclass(frozen=True)
class ModelCard:
    name: str
    title: str
    architecture: str  # which app-side class runs it (inference.registry.ARCHITECTURES)
    family: str  # the lecture's taxonomy: autoencoder, latent-variable, autoregressive, implicit, flow, classifier
    density: str  # what it gives for log p(x): exact, bound, none
    config: dict
    networks: dict[str, NetworkSpec]
    data: dict
    training: dict
    metrics: Metrics = field(default_factory=Metrics)
    description: str = ""
    parameters: int = 0
    comparison: Comparison | None = None
    opset: int | None = None
    versions: dict | None = None
    exported: str | None = None
    evaluated: str | None = None

    def __post_init__(self):
        if self.density not in DENSITY_KINDS:
            raise CardError(f"density must be one of {', '.join(DENSITY_KINDS)}, got {self.density!r}")
        for key in ("seconds", "epochs"):
            if not isinstance(self.training.get(key), (int, float)):
                raise CardError(f"training.{key} is missing or not a number")

    @property
    def training_seconds(self) -> float:
        return float(self.training["seconds"])

    @property
    def measured_on(self) -> str | None:
        return self.comparison.measured_on if self.comparison else None


def is_model_card(raw: Any) -> bool:
    """A model card lists networks; the study cards say which study they are (``kind``)."""
    return isinstance(raw, dict) and "networks" in raw and "kind" not in raw


def parse_model_card(raw: Any, source: str) -> ModelCard:
    try:
        return _parse(ModelCard, raw, source)
    except CardError as err:
        message = str(err)
        raise CardError(message if message.startswith(source) else f"{source}: {message}") from None


def load_model_card(path: Path) -> ModelCard:
    return parse_model_card(read_json(path), Path(path).name)


# ---- study cards --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ToyModel:
    """One trained toy-density model: its networks, held-out log-likelihood and how it was trained."""

    networks: dict[str, NetworkSpec]
    held_out_ll: float | None = None
    config: dict = field(default_factory=dict)
    training_seconds: float | None = None
    steps: int | None = None
    estimator: str | None = None  # how log p(x) is computed where it is not exact


@dataclass(frozen=True)
class ToySet2D:
    title: str
    true_held_out_ll: float
    models: dict[str, ToyModel]


@dataclass(frozen=True)
class ToySet1D:
    title: str
    n_train: int
    true_held_out_ll: float
    flow: ToyModel


@dataclass(frozen=True)
class ToyKind:
    title: str
    density: str


@dataclass(frozen=True)
class DensityCard:
    kind: str
    title: str
    held_out: str
    models_2d: dict[str, ToyKind]
    datasets_2d: dict[str, ToySet2D]
    datasets_1d: dict[str, ToySet1D]
    seconds: float
    exported: str | None = None
    description: str | None = None


@dataclass(frozen=True)
class LabRunCard:
    """One GAN-lab run: its setting, its snapshots file and final generator, and a summary."""

    dataset: str
    setting: str
    file: str
    sha256: str
    config: dict
    seed: int
    seconds: float
    final_d_loss: float
    final_g_loss: float
    generator: NetworkSpec | None = None
    modes_covered: int | None = None
    modes: int | None = None
    share_near_a_mode: float | None = None
    loss_note: str | None = None


@dataclass(frozen=True)
class GanLabCard:
    kind: str
    title: str
    runs: tuple[LabRunCard, ...]
    description: str | None = None
    seconds: float | None = None
    exported: str | None = None


@dataclass(frozen=True)
class StudyClassifier(NetworkSpec):
    test_accuracy: float = 0.0
    labels: int = 0
    seed: int = 0
    validation_accuracy: float | None = None


@dataclass(frozen=True)
class FeaturesCard:
    kind: str
    title: str
    methods: dict[str, str]
    data: dict
    protocol: dict
    results: list[dict]
    table: list[dict]
    headline: dict
    classifiers: dict[str, StudyClassifier]
    seconds: float
    checkpoints: dict | None = None
    exported: str | None = None


STUDY_CARDS = {"density": DensityCard, "ganlab": GanLabCard, "features": FeaturesCard}


def load_study_card(path: Path):
    """A study card (its ``kind`` says which), or CardError naming the file and the field."""
    path = Path(path)
    raw = read_json(path)
    kind = raw.get("kind") if isinstance(raw, dict) else None
    if kind not in STUDY_CARDS:
        raise CardError(f"{path.name}: 'kind' must be one of {', '.join(STUDY_CARDS)}, got {kind!r}")
    return _parse(STUDY_CARDS[kind], raw, path.name)
