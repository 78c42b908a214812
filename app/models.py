"""What the pages load, cached once per server process and shared by every session.

Queries here are pure: they return what is there and never draw. The widgets that show a
choice also show what is unavailable and why (app.widgets, app.display).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import streamlit as st

from inference import density, density_maps, features, ganlab, views
from inference.base import Capabilities, OnnxModel
from inference.cards import CardError, DensityCard, FeaturesCard, networks_source
from inference.data import TestDigits, load_test_digits
from inference.metrics import nll_nats
from inference.registry import ModelEntry, exported_dir, load_model, scan
from inference.toy import TOYS

Where = Callable[[Capabilities], bool]


def folder() -> str:
    """The exported folder as a cache key: tests point GENLAB_EXPORTED_DIR elsewhere."""
    return str(exported_dir())


@st.cache_resource(show_spinner="Reading model cards...")
def _entries(folder: str) -> dict[str, ModelEntry]:
    return scan(Path(folder))


def model_entries() -> dict[str, ModelEntry]:
    """Every model card in exported/, checked once per process, in display order."""
    return _entries(folder())


# What pages ask for (a page asks what a model can do, never which class it is):
def generative(c: Capabilities) -> bool:
    return c.generative


def with_encoder(c: Capabilities) -> bool:
    return c.has_encoder


def with_latent(c: Capabilities) -> bool:
    return c.has_latent


def completes(c: Capabilities) -> bool:
    return c.can_complete


def chain_rule(c: Capabilities) -> bool:
    """An exact likelihood as a product of per-pixel conditionals, which can be mapped pixel by pixel."""
    return c.can_complete and c.density == "exact"


def eight_bit_chain_rule(c: Capabilities) -> bool:
    """A chain-rule model of 8-bit pixels: a distribution over 256 levels at every pixel."""
    return chain_rule(c) and c.image_kind != "binary"


def with_likelihood(c: Capabilities) -> bool:
    return c.has_likelihood


def _matches(entry: ModelEntry, where: Where | None) -> bool:
    return where is None or (entry.capabilities is not None and where(entry.capabilities))


def available(where: Where | None = None) -> list[ModelEntry]:
    """The usable models whose capabilities satisfy ``where`` (all if None), family by family."""
    return [e for e in model_entries().values() if e.available and _matches(e, where)]


def unavailable(where: Where | None = None) -> list[ModelEntry]:
    """The models of that kind that cannot be used (a model whose card cannot be read counts for every kind)."""
    return [e for e in model_entries().values() if not e.available and (e.capabilities is None or _matches(e, where))]


@st.cache_resource(show_spinner="Loading model...", max_entries=32)
def cached_model(name: str, folder: str) -> OnnxModel:
    return load_model(name, Path(folder))


def load(name: str) -> OnnxModel:
    """The loaded model; ModelUnavailable says why it cannot be."""
    return cached_model(name, folder())


@st.cache_resource(show_spinner="Loading test digits...")
def _test_digits(folder: str) -> TestDigits:
    return load_test_digits(Path(folder))


def test_digits() -> TestDigits:
    """The 500 test digits; OSError, KeyError or ValueError with the reason if the demo data is unusable."""
    return _test_digits(folder())


@st.cache_data(show_spinner="Scoring the 500 test digits...", max_entries=16)
def _test_nll(name: str, folder: str) -> np.ndarray:
    model = cached_model(name, folder)
    digits = _test_digits(folder)
    # Export stores them, computed by the same function through the same (sha-checked) ONNX files:
    # scoring 500 digits is up to ~20 s on 2 cores (the Gated PixelCNN sums over 10 classes).
    stored = model.card.metrics.test_nll_per_image
    if stored is not None and len(stored) == len(digits.binary):
        return np.asarray(stored, np.float64)
    if model.capabilities.image_kind == "binary":
        return nll_nats(model, digits.binary)
    return nll_nats(model, digits.gray(np.arange(len(digits.binary))))


@st.cache_resource(show_spinner=False)
def _stored_views(folder: str) -> tuple[views.Views, str | None]:
    """The views export stored (inference.views), and the test digits' fingerprint they are checked against."""
    try:
        return views.read(Path(folder) / views.FILE), views.digits_source(Path(folder))
    except OSError:  # no test digits: nothing stored can be checked
        return {}, None


def _stored(model: OnnxModel, key: str, folder: str) -> np.ndarray | None:
    """A view export stored for this model, if it was computed from the very files loaded now."""
    stored, digits = _stored_views(folder)
    return None if digits is None else views.stored(stored, key, views.source(model.card, digits))


@st.cache_data(show_spinner=False, max_entries=64)
def _nll_of(name: str, folder: str, images: np.ndarray) -> np.ndarray:
    model = cached_model(name, folder)
    found = _stored(model, views.nll_key(name, images), folder)
    return found if found is not None else nll_nats(model, images)


@st.cache_data(show_spinner=False, max_entries=64)
def _compare_row(name: str, kind: str, seed: int, folder: str) -> np.ndarray:
    model = cached_model(name, folder)
    found = _stored(model, views.row_key(name, kind, seed), folder)
    return found if found is not None else views.compare_row(model, kind, seed, _test_digits(folder))


@st.cache_data(show_spinner=False, max_entries=64)
def _completion(name, folder, image, hidden, n, seed, temperature, label) -> tuple[np.ndarray, float]:
    model = cached_model(name, folder)
    key = views.completion_key(name, image, hidden, n, seed, temperature, label)
    found, seconds = _stored(model, key, folder), _stored(model, f"{key}/seconds", folder)
    if found is not None and seconds is not None:
        return found, float(seconds)
    return views.completion(model, image, hidden, n, seed, temperature, label)


def completion(
    name: str, image: np.ndarray, hidden: np.ndarray, n: int, seed: int, temperature: float, label: int | None
) -> tuple[np.ndarray, float]:
    """n completions of one image's ``hidden`` pixels (a conditional model asked for ``label``), and the seconds they
    took to draw; cached, so a class opening the page draws them once (at its defaults, export did)."""
    image, hidden = np.ascontiguousarray(image, np.float32), np.ascontiguousarray(hidden, bool)
    return _completion(name, folder(), image, hidden, int(n), int(seed), float(temperature), label)


@st.cache_data(show_spinner=False, max_entries=32)
def _test_codes(name: str, folder: str) -> np.ndarray:
    model = cached_model(name, folder)
    found = _stored(model, views.codes_key(name), folder)
    return found if found is not None else views.test_codes(model, _test_digits(folder))


def test_codes(name: str) -> np.ndarray:
    """The 500 fixed-binary test digits encoded by a model with an encoder (a VAE's posterior means), (500, D)."""
    return _test_codes(name, folder())


def compare_row(name: str, kind: str, seed: int) -> np.ndarray:
    """A model's row on Compare ("samples", "reconstructions" or "completions" at a seed), cached so sorting and
    filtering stay instant; the default seed's rows come from export."""
    return _compare_row(name, kind, seed, folder())


def nll_of(name: str, images: np.ndarray) -> np.ndarray:
    """-log p(x) of some images of the model's kind under a model, nats per image, cached: a VAE's bound at its card's k
    (5,000 importance samples) takes seconds, and a second visitor asking for the same images gets it at once."""
    return _nll_of(name, folder(), np.ascontiguousarray(images, np.float32))


def test_nll(name: str) -> np.ndarray:
    """-log p(x) of each of the 500 test digits on the model's track (the fixed binarization, or 8-bit) under a
    model (metrics.nll_nats), nats per image."""
    return _test_nll(name, folder())


# ---- the studies' cards and files -----------------------------------------------------------------


@st.cache_resource(show_spinner="Loading the density models...")
def _density_card(folder: str) -> tuple[DensityCard | None, str | None]:
    try:
        return density.load_density_card(Path(folder)), None
    except CardError as err:
        return None, str(err)


def density_card() -> tuple[DensityCard | None, str | None]:
    """The toy-density study's card and, if it cannot be used, why."""
    return _density_card(folder())


def _lab_card(folder: str):
    try:
        return ganlab.load_lab_card(Path(folder))
    except CardError:
        return None  # no lab: no GAN on the density page (the GAN lab page says why)


@st.cache_resource(show_spinner=False, max_entries=16)
def _toy_networks(dataset: str, folder: str):
    card, problem = _density_card(folder)
    if card is None:
        return {}, [problem or "run `python -m training density`"]
    return density.check_trained(dataset, card, _lab_card(folder), Path(folder))


def toy_networks(dataset: str) -> tuple[dict, list[str]]:
    """The shipped models of a 2-D toy set whose files are usable, {kind: {role: NetworkSpec}}, and why any are
    not; checked, not loaded (:func:`toy_model` loads one)."""
    return _toy_networks(dataset, folder())


@st.cache_resource(show_spinner="Loading the density model...", max_entries=32)
def _toy_model(dataset: str, kind: str, folder: str):
    card, _ = _density_card(folder)
    return density.load_one(dataset, kind, card, _lab_card(folder), Path(folder))


def toy_model(dataset: str, kind: str):
    """One trained model of a 2-D toy set, loaded once per process (ModelFileError if it cannot be)."""
    return _toy_model(dataset, kind, folder())


@st.cache_resource(show_spinner=False)
def _stored_maps(folder: str) -> dict:
    return density_maps.read(Path(folder) / density_maps.FILE)


@st.cache_data(show_spinner=False, max_entries=64)
def _live_map(dataset: str, kind: str, folder: str) -> density_maps.DensityMap:
    if kind == density_maps.TRUE:
        return density_maps.true_map(TOYS[dataset])
    return density_maps.model_map(kind, _toy_model(dataset, kind, folder))


def density_map(dataset: str, kind: str) -> density_maps.DensityMap:
    """A 2-D toy set's map under one model (or ``density_maps.TRUE``): the one export stored, if it came from the
    shipped files as they are now; else computed here, once per process (seconds, for a flow or a kernel
    estimate of 2,000 samples)."""
    if kind == density_maps.TRUE:
        expected = density_maps.true_source(TOYS[dataset])
    else:
        expected = networks_source(toy_networks(dataset)[0][kind])
    stored = _stored_maps(folder()).get((dataset, kind))
    if stored is not None and stored[1] == expected:
        return stored[0]
    return _live_map(dataset, kind, folder())


@st.cache_resource(show_spinner="Loading the trained flow...", max_entries=16)
def _flow_1d(dataset: str, folder: str):
    card, problem = _density_card(folder)
    entry = card.datasets_1d.get(dataset) if card else None
    if entry is None:
        return None, problem
    try:
        return density.TrainedDensity("flow", entry.flow, Path(folder)), None
    except density.ModelFileError as err:
        return None, str(err)


def flow_1d(dataset: str):
    """The trained 1-D flow for a data set (loaded once, not on every slider move), and why not if it failed."""
    return _flow_1d(dataset, folder())


@st.cache_resource(show_spinner="Loading the lab's training snapshots...")
def _lab(folder: str):
    return ganlab.load_lab(Path(folder))


def lab():
    """The GAN lab's runs and a message for each that failed to load."""
    return _lab(folder())


@st.cache_resource(show_spinner="Loading the study's classifiers...")
def _features(folder: str) -> tuple[FeaturesCard | None, dict, list[str]]:
    try:
        card = features.load_study(Path(folder))
    except CardError as err:
        return None, {}, [str(err)]
    nets, problems = features.load_classifiers(card, Path(folder)) if card else ({}, [])
    return card, nets, problems


def features_study():
    """The few-label study's card, its classifiers, and what failed to load."""
    return _features(folder())
