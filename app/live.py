"""The browser views: a Streamlit component (app/browser/) that runs the shipped ONNX files in the visitor's browser
with onnxruntime-web (WASM), what the page sends it, and the server path each view falls back to. The Live page's
views (latent plane, draw pad, samplers), and the rows of digits Compare and Complete draw there (:class:`Rows`).

How the files reach the browser: a second component, never rendered, whose folder is exported/ itself, so the
server's component route serves the very files the server loads (``/component/app.live.exported/<file>``):
nothing is copied, and nothing more is committed. The browser fetches each file once, checks it against the
sha256 in its card and keeps it in its Cache Storage under that hash (and the WASM binary likewise), so a
second visit, or a lecture hall of them, costs the server nothing but the page.

The browser reports back only a failure (no WebAssembly, a model that will not load): then the page draws the
view on the server, as every other page does. Noise is drawn here, by numpy, so a seed gives the same pictures
in both places.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import streamlit as st
import streamlit.components.v1 as components

from app import display, models, widgets
from inference import images as img
from inference import live, views
from inference.autoregressive import in_progress
from inference.cards import ModelCard
from inference.registry import ModelEntry

BROWSER_DIR = Path(__file__).resolve().parent / "browser"
ORT_DIR = BROWSER_DIR / "vendor" / "onnxruntime-web"
WASM_FILE = "ort-wasm-simd.wasm"
VIEWS = {"latent": "Latent explorer", "draw": "Draw pad", "samplers": "Samplers"}
BROWSER_SAMPLERS = ("pixelcnn", "pixelrnn")  # the Live page's samplers view: the binary raster models
N_SAMPLES = 16
STROKE_WIDTH = 22  # as the Reconstruct page's canvas
PAD_SIZE = 280


def _components():
    """The component and the file server for exported/, declared on every run (cheap), so they are registered
    with the server whichever page imported this module first, and follow GENLAB_EXPORTED_DIR."""
    return (
        components.declare_component("live", path=str(BROWSER_DIR)),
        components.declare_component("exported", path=models.folder()),
    )


def ort_version() -> str:
    return (ORT_DIR / "VERSION").read_text().strip()


def _wasm_sha256() -> str:
    for line in (ORT_DIR / "SHA256SUMS").read_text().splitlines():
        digest, _, name = line.partition("  ")
        if name.strip() == WASM_FILE:
            return digest
    raise FileNotFoundError(f"{WASM_FILE} is not listed in {ORT_DIR / 'SHA256SUMS'}")


def runtime_config(files_component: str) -> dict:
    """Where the browser finds the models and the WASM binary (URLs relative to the component's page)."""
    return {
        "modelsBase": f"../{files_component}/",
        "wasm": {"url": f"vendor/onnxruntime-web/{WASM_FILE}", "sha256": _wasm_sha256(), "file": WASM_FILE},
        "version": ort_version(),
    }


def network(card: ModelCard, role: str) -> dict:
    """One network as the browser needs it: its file, the sha256 it is checked against, its tensors; ``rewrite``
    for a sampler's step network on a fixed window, whose whole-window convolutions the browser runs as matrix
    products (app/browser/rewrite.js: ten times faster in onnxruntime-web's WASM backend); not for one exported with
    a dynamic window (PixelCNN++'s row stream), whose convolutions slide."""
    spec = card.networks[role]
    shapes = [t.shape for t in spec.inputs]
    return {
        "file": spec.file,
        "sha256": spec.sha256,
        "inputs": spec.input_names,
        "outputs": spec.output_names,
        "shapes": shapes,
        "rewrite": "step" in role and all(isinstance(d, int) for shape in shapes for d in shape[1:]),
    }


def _f32(a) -> bytes:
    return np.ascontiguousarray(a, "<f4").tobytes()


def _f64(a) -> bytes:
    return np.ascontiguousarray(a, "<f8").tobytes()


def _decoder_role(card: ModelCard) -> str:
    """The network that maps a code to an image (a VAE's decoder, a GAN's generator): its first input is z."""
    return next(role for role, spec in card.networks.items() if spec.input_names[:1] == ["z"])


# ---- which models each view uses, asked by capability -------------------------------------------------------


def plane_entry() -> ModelEntry | None:
    """A model with an encoder, a prior and a 2-d latent: the plane's."""
    return next(iter(models.available(lambda c: c.has_encoder and c.has_prior and c.latent_dim == 2)), None)


def coded_entries() -> list[ModelEntry]:
    """Models with an encoder and a code longer than 2 (the autoencoder, the VAE): not a flow, whose 784-d code is
    the image itself reshaped, with no principal directions worth a slider."""
    return models.available(lambda c: c.has_encoder and (c.latent_dim or 0) > 2 and c.family != "flow")


def classifier_entry() -> ModelEntry | None:
    judges = models.available(lambda c: not c.generative)
    return next((e for e in judges if e.name == "classifier"), judges[0] if judges else None)


def autoregressive_entries() -> list[ModelEntry]:
    """Unconditional chain-rule models whose fast sampler the browser has."""
    return [
        e
        for e in models.available(lambda c: models.chain_rule(c) and not c.conditional)
        if e.card.architecture in BROWSER_SAMPLERS
    ]


def likelihood_entry() -> ModelEntry | None:
    """The draw pad's likelihood: the PixelCNN if there is one, else another unconditional binary chain-rule model."""
    entries = models.available(lambda c: models.chain_rule(c) and not c.conditional and c.image_kind == "binary")
    return next((e for e in entries if e.card.architecture == "pixelcnn"), entries[0] if entries else None)


def latent_sampler_entries() -> list[ModelEntry]:
    """Models that sample by decoding codes from a prior (the VAE, the GANs; a flow's sampling stays on its page)."""
    return models.available(
        lambda c: c.generative and c.has_latent and c.has_prior and (c.latent_dim or 0) > 2 and c.family != "flow"
    )


# ---- what each view is sent ----------------------------------------------------------------------------------


@st.cache_data(show_spinner="Encoding the test digits...", max_entries=8)
def _codes(name: str, folder: str) -> np.ndarray:
    digits = models.test_digits()
    return models.cached_model(name, folder).encode(digits.gray(np.arange(len(digits))))


def test_codes(name: str) -> np.ndarray:
    """The encoder's codes (a VAE's posterior means) of the 500 test digits, computed once per process."""
    return _codes(name, models.folder())


@st.cache_data(show_spinner=False, max_entries=8)
def _directions(name: str, folder: str) -> live.Directions:
    return live.principal_directions(_codes(name, folder))


def directions(name: str) -> live.Directions:
    return _directions(name, models.folder())


def latent_args() -> tuple[dict, dict]:
    entry = plane_entry()
    if entry is None:
        return {}, {}
    digits = models.test_digits()
    sliders = []
    for e in coded_entries():
        d = directions(e.name)
        sliders.append(
            {
                "title": e.title,
                "net": network(e.card, _decoder_role(e.card)),
                "mean": d.mean.tolist(),
                "directions": d.directions.tolist(),
                "scales": d.scales.tolist(),
            }
        )
    plane = {
        "title": entry.title,
        "net": network(entry.card, _decoder_role(entry.card)),
        "extent": live.PLANE_EXTENT,
        "cells": live.PLANE_CELLS,
        "labels": digits.labels.tolist(),
    }
    return {"plane": plane, "sliders": {"components": live.COMPONENTS, "models": sliders}}, {
        "plane_codes": _f32(test_codes(entry.name))
    }


def draw_args() -> tuple[dict, dict]:
    encoders = [
        {"title": e.title, "encoder": network(e.card, "encoder"), "decoder": network(e.card, "decoder")}
        for e in coded_entries()
    ]
    judge, likelihood = classifier_entry(), likelihood_entry()
    pad = {
        "size": PAD_SIZE,
        "stroke_width": STROKE_WIDTH,
        "encoders": encoders,
        "classifier": judge and {"title": judge.title, "net": network(judge.card, "classifier")},
        "likelihood": likelihood and {"title": likelihood.title, "net": network(likelihood.card, "full")},
    }
    return {"pad": pad}, {"binarize_uniforms": _f64(live.binarize_uniforms())}


def sampler_args(seed: int, n: int = N_SAMPLES) -> tuple[dict, dict]:
    autoregressive = [
        {
            "title": e.title,
            "architecture": e.card.architecture,
            "config": e.card.config,
            "net": network(e.card, "step"),
        }
        for e in autoregressive_entries()
    ]
    latent_models, codes, offset = [], [], 0
    for e in latent_sampler_entries():
        model = models.load(e.name)
        z = model.random_latents(n, seed)  # numpy's codes for the seed, as model.sample draws them
        labels = model.class_labels(None, n)
        latent_models.append(
            {
                "title": e.title,
                "net": network(e.card, _decoder_role(e.card)),
                "z_dim": int(z.shape[1]),
                "offset": offset,
                "labels": None if labels is None else labels.tolist(),
                "num_classes": model.num_classes,
            }
        )
        codes.append(z.ravel())
        offset += z.size
    samplers = {"seed": seed, "n": n, "temperature": 1.0, "autoregressive": autoregressive, "latent": latent_models}
    return {"samplers": samplers}, {
        "ar_uniforms": _f64(live.sampler_uniforms(n, seed)),
        "latent_codes": _f32(np.concatenate(codes) if codes else np.zeros(0)),
    }


# ---- rows of digits, the samplers' drawn in the browser (Compare, Complete) -----------------------------------

# The architectures whose fast samplers app/browser/samplers.js ports, and the networks each runs.
SAMPLER_NETWORKS = {
    "pixelcnn": ("step",),
    "pixelrnn": ("step",),
    "pixelrnn_diagonal": ("step", "row_step"),
    "gated_pixelcnn": ("row_step", "pixel_step"),
    "pixelcnn_pp": ("context", "pixel_step"),
    "multiscale": ("base", "upsample_14", "upsample_28"),
}


DRAWN_HERE = "drawn in your browser in {seconds} s"  # a browser row's caption once drawn ({seconds}: its time)


def browser_samples(entry: ModelEntry) -> bool:
    """Whether the browser draws this model's samples: every autoregressive model's, DDIM's, and the flow's (its
    784-d coupling layers cost the server more than every other one-pass model together)."""
    return entry.card.architecture in SAMPLER_NETWORKS or entry.capabilities.family in (
        "diffusion",
        "flow",
    )


def browser_reconstructs(entry: ModelEntry) -> bool:
    return entry.capabilities.family == "flow"


def browser_completes(entry: ModelEntry) -> bool:
    return entry.card.architecture in SAMPLER_NETWORKS


class Rows:
    """The rows view's arguments, built row by row: sections of rows of digits, each row either pixels the server
    computed (8-bit, in one buffer) or a recipe the browser's sampler draws from: the networks, numpy's noise for the
    seed (so the pictures are the server's), the pixels a completion keeps. Arrays are shared between rows."""

    def __init__(self) -> None:
        self.sections: list[dict] = []
        self.byte_args: dict[str, bytes] = {}
        self._pixels: list[np.ndarray] = []
        self._offset = 0

    def section(self, title: str = "", note: str = "") -> None:
        self.sections.append({"title": title, "note": note, "rows": []})

    def _row(self, row: dict) -> None:
        if not self.sections:
            self.section()
        self.sections[-1]["rows"].append(row)

    def _array(self, prefix: str, data: bytes) -> str:
        """The name of a byte argument holding ``data``, shared by every row that sends the same bytes."""
        key = f"{prefix}_{hashlib.sha256(data).hexdigest()[:16]}"
        self.byte_args[key] = data
        return key

    def server(self, images: np.ndarray, *, key: str = "", title: str = "", caption: str = "", scale: int = 3) -> None:
        """A row the server computed: its pixels, rounded to 8 bits as the server's pictures are."""
        pixels = np.rint(np.clip(np.asarray(images, np.float32), 0, 1) * 255).astype(np.uint8).reshape(len(images), -1)
        self._pixels.append(pixels.ravel())
        row = {"key": key, "title": title, "caption": caption, "n": len(images), "scale": scale, "server": self._offset}
        self._row(row)
        self._offset += pixels.size

    def sample(
        self,
        entry: ModelEntry,
        n: int,
        seed: int,
        *,
        key: str,
        title: str = "",
        done: str = DRAWN_HERE,
        scale: int = 3,
        temperature: float = 1.0,
        labels=None,
        known: np.ndarray | None = None,
        hidden: np.ndarray | None = None,
    ) -> None:
        """A row the browser draws: ``n`` samples of a model at a seed, as ``model.sample(n, seed)`` draws them, or
        with ``known`` (H, W) or (n, H, W) and ``hidden`` (H, W), the completions ``model.complete`` draws.
        ``key`` names the row for the tests; ``done`` is its caption once drawn ({seconds}: the browser's time)."""
        model, card = models.load(entry.name), entry.card
        row = {"key": key, "title": title, "done": done, "n": n, "scale": scale}
        if entry.capabilities.family == "flow":
            codes = self._array("codes", _f32(model.random_latents(n, seed, temperature)))
            row["browser"] = {"sampler": "flow", "nets": {"decoder": network(card, "decoder")}, "codes": codes}
            return self._row(row)
        if entry.capabilities.family == "diffusion":
            noise = self._array("noise", _f32(model.start_noise(n, seed, temperature)))
            row["browser"] = {"sampler": "ddim", "net": network(card, "denoiser"), "plan": model.ddim_plan(n, labels=labels),
                              "noise": noise}  # fmt: skip
            return self._row(row)
        recipe = {
            "sampler": card.architecture,
            "nets": {role: network(card, role) for role in SAMPLER_NETWORKS[card.architecture]},
            "config": card.config,
            "temperature": float(temperature),
            "uniforms": self._array("uniforms", _f64(live.sampler_uniforms(n, seed, model.image_size))),
            "labels": None,
            "keep": None,
        }
        labels = model.class_labels(labels, n)
        if labels is not None:
            recipe["labels"] = [int(label) for label in labels]
        if known is not None:
            shape = (n, model.image_size, model.image_size)
            recipe["keep"] = {
                "values": self._array("known", _f32(np.broadcast_to(np.asarray(known, np.float32), shape))),
                "hidden": self._array("hidden", np.ascontiguousarray(hidden, np.uint8).tobytes()),
            }
        row["browser"] = recipe
        self._row(row)

    def reconstruct(self, entry: ModelEntry, images: np.ndarray, *, key: str, title: str = "", scale: int = 3) -> None:
        """A row the browser draws: a flow's reconstructions of ``images`` (N, H, W), as ``model.reconstruct``."""
        model, card = models.load(entry.name), entry.card
        nets = {role: network(card, role) for role in ("encoder", "decoder")}
        dequantized = self._array("dequantized", _f32(model.dequantize(images)))
        row = {
            "key": key,
            "title": title,
            "done": DRAWN_HERE,
            "n": len(images),
            "scale": scale,
        }
        self._row(row | {"browser": {"sampler": "flow", "nets": nets, "dequantized": dequantized}})

    def args(self) -> tuple[dict, dict]:
        pixels = np.concatenate(self._pixels).tobytes() if self._pixels else b""
        return {"rows": {"sections": self.sections}}, {**self.byte_args, "server_rows": pixels}


def compare_args(sections: list, seed: int) -> tuple[dict, dict]:
    """Compare's rows at a seed: each section's test digits and every model's row, the samplers' (seconds of the
    server's time) drawn in the browser exactly as ``views.compare_row`` draws them, the rest computed here (cached
    per model, kind and seed). ``sections``: (kind, title, note, originals [(images, caption)], entries)."""
    rows = Rows()
    digits = models.test_digits()
    for kind, title, note, originals, entries in sections:
        rows.section(title, note)
        for images, caption in originals:
            rows.server(images, caption=caption)
        for e in entries:
            key = f"{kind}/{e.name}"
            if kind == "samples" and browser_samples(e):
                rows.sample(e, 8, seed, key=key, title=e.title)
            elif kind == "reconstructions" and browser_reconstructs(e):
                rows.reconstruct(e, views.reconstruction_digits(digits, seed), key=key, title=e.title)
            elif kind == "completions" and browser_completes(e):
                known = views.completion_digits(digits, e.capabilities.image_kind, seed)
                labels = views.completion_labels(digits, seed) if e.capabilities.conditional else None
                rows.sample(e, 4, seed, key=key, title=e.title, known=known, hidden=views.COMPARE_HIDDEN, labels=labels)
            else:
                rows.server(models.compare_row(e.name, kind, seed), key=key, title=e.title)
    return rows.args()


def show(view: str, args: dict, byte_args: dict) -> str | None:
    """Render the live component on ``view``; the reason the browser gave for not running it, or None.

    One component instance (key "live") serves every view, so its iframe, and the models loaded in it, stay
    while the user switches views."""
    component, files = _components()
    value = component(view=view, runtime=runtime_config(files.name), **args, **byte_args, key="live", default=None)
    failed = value.get("failed") if isinstance(value, dict) else None
    return failed.get(view) if isinstance(failed, dict) else None


# ---- the server path: the same views, computed by the server on every change -----------------------------------


def server_latent() -> None:
    entry = plane_entry()
    if entry is None:
        st.info("No model with a 2-d latent space is available. Run `python -m training all`.")
        return
    model = widgets.get_model(entry.name)
    if model is None:
        return
    e = live.PLANE_EXTENT
    st.subheader(f"{model.title}: the latent plane")
    left, middle, right = st.columns([2, 2, 3])
    with left:
        z1 = st.slider("z₁", -e, e, 0.0, step=0.1, key="live_z1")
        z2 = st.slider("z₂", -e, e, 0.0, step=0.1, key="live_z2")
    with middle:
        z = np.array([[z1, z2]], np.float32)
        display.show_digit(model.decode(z)[0], caption=f"z = ({z1:.2f}, {z2:.2f}), decoded on the server")
    with right:
        grid = model.decode(live.plane_grid())
        display.show_tiled(grid, cols=live.PLANE_CELLS, scale=1, caption="The decoded grid over the same square")
    coded = coded_entries()
    if not coded:
        return
    st.subheader(f"{' and '.join(c.title for c in coded)}: {live.COMPONENTS} principal directions")
    controls, *pictures = st.columns([2] + [1] * len(coded))
    with controls:
        steps = [
            st.slider(f"PC {c + 1}", -live.SLIDER_RANGE, live.SLIDER_RANGE, 0.0, step=0.05, key=f"live_pc{c}")
            for c in range(live.COMPONENTS)
        ]
    for column, c in zip(pictures, coded, strict=True):
        coded_model = widgets.get_model(c.name)
        if coded_model is not None:
            with column:
                display.show_digit(coded_model.decode(directions(c.name).code(steps)[None])[0], caption=c.title)


def _heat(values: np.ndarray, scale: int = 5) -> np.ndarray:
    from app import raster

    rgb = raster.colorize(values, "magma", 0.0, max(float(values.max()), 1e-6))
    return np.kron(rgb, np.ones((scale, scale, 1), np.uint8))


def server_draw() -> None:
    from streamlit_drawable_canvas import st_canvas  # a browser component: imported only when drawing

    left, right = st.columns([2, 3], gap="large")
    with left:
        canvas = st_canvas(
            stroke_width=STROKE_WIDTH,
            stroke_color="#FFFFFF",
            background_color="#000000",
            width=PAD_SIZE,
            height=PAD_SIZE,
            drawing_mode="freedraw",
            return_image_data=True,
            key="live_canvas",
        )
    if not (canvas.json_data and canvas.json_data.get("objects")):
        with right:
            st.info("Draw one digit on the black square, large and in the middle.")
        return
    try:
        prepared = img.drawing_digit(canvas.image_data)
    except img.ImageInputError as err:
        with right:
            st.warning(str(err), icon=":material/draw:")
        return
    encoders = [m for m in (widgets.get_model(e.name) for e in coded_entries()) if m is not None]
    judge, likelihood = classifier_entry(), likelihood_entry()
    figures = live.pad_figures(
        prepared.image,
        encoders,
        widgets.get_model(judge.name) if judge else None,
        widgets.get_model(likelihood.name) if likelihood else None,
    )
    with right:
        if prepared.warning:
            st.warning(prepared.warning, icon=":material/warning:")
        columns = st.columns(1 + len(figures.reconstructions))
        with columns[0]:
            display.show_digit(prepared.image, caption="What the models see (28 x 28)", scale=5)
        for column, r in zip(columns[1:], figures.reconstructions, strict=True):
            with column:
                display.show_digit(r.image, caption=f"{r.title}: {r.nats:.1f} nats", scale=5)
        guess_column, likelihood_column = st.columns(2)
        if figures.probabilities is not None:
            with guess_column:
                best = int(np.argmax(figures.probabilities))
                st.markdown(f"**{judge.title}**: a {best}, with probability {figures.probabilities[best]:.1%}")
                st.bar_chart({"probability": figures.probabilities}, height=180)
        if figures.surprise is not None:
            with likelihood_column:
                st.markdown(f"**{likelihood.title}**: {figures.bits_per_dim:.4f} bits/dim ({figures.nats:.1f} nats)")
                st.image(_heat(figures.surprise), caption="Surprise per pixel", output_format="PNG")


def server_samplers(seed: int, n: int = N_SAMPLES) -> None:
    entries = autoregressive_entries()
    if entries:
        st.subheader("Autoregressive models, pixel by pixel")
        for column, entry in zip(st.columns(len(entries)), entries, strict=True):
            model = widgets.get_model(entry.name)
            if model is None:
                continue
            with column:
                picture = st.empty()

                def on_row(row: int, images: np.ndarray, picture=picture, title=model.title) -> None:
                    with picture.container():
                        display.show_digits(
                            in_progress(images, row), cols=4, scale=3, caption=f"{title}: row {row + 1}"
                        )

                with display.timed(f"Sampling {n} images from the {model.title}...") as took:
                    samples = model.sample(n, seed, on_row=on_row)
                with picture.container():
                    display.show_digits(
                        samples,
                        cols=4,
                        scale=3,
                        caption=f"{model.title}: {n} samples, seed {seed}, in {took['seconds']:.2f} s on the server",
                    )
    entries = latent_sampler_entries()
    if entries:
        st.subheader("Latent models: one decoder pass per seed")
        for column, entry in zip(st.columns(len(entries)), entries, strict=True):
            model = widgets.get_model(entry.name)
            if model is not None:
                with column:
                    display.show_digits(model.sample(n, seed), cols=4, scale=3, caption=f"{model.title}, seed {seed}")
