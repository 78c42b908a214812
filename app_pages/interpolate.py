"""Interpolate: walk in latent space between two codes; the 2-d VAE's whole latent manifold."""

import numpy as np
import streamlit as st

from app import display, models, plots, raster, widgets
from inference import latent

display.header(
    "Interpolate",
    "Decoding the path between two codes shows what the model put between them. The VAE's prior packs its codes "
    "into one Gaussian ball, so paths stay on digits; nothing asks the autoencoder to, so its paths (try two random "
    "codes) can cross holes that decode to no digit at all. A flow's code is as large as the image and exact: its "
    "path starts and ends on the very digits.",
)


@st.cache_data(show_spinner=False, max_entries=16)
def manifold_png(name: str, span: float, dots: bool, folder: str) -> bytes:
    """The manifold figure, drawn once per model, extent and process: it depends on nothing a visitor sets, so
    a new path or seed above never redraws it."""
    model, digits = models.load(name), models.test_digits()
    codes = model.encode(digits.gray(np.arange(len(digits))))
    return plots.latent_manifold(model, codes, digits.labels, span=span, cells=20, dots=dots)


digits = widgets.test_digits()
st.sidebar.subheader("Endpoints")
# a link that carries a seed (/interpolate?seed=4) opens the random codes: the only endpoints a seed sets
endpoints = st.sidebar.radio(
    "Endpoints",
    ["Two test digits", "Two random codes"],
    index=1 if "seed" in st.query_params else 0,
    key="endpoints",
    label_visibility="collapsed",
)
if endpoints == "Two test digits":
    with st.sidebar:
        a = widgets.digit_picker("start_index", "Start digit", default=1)
        b = widgets.digit_picker("end_index", "End digit", default=499)
else:
    seed = widgets.seed_input()
steps = int(st.sidebar.slider("Steps", 3, 16, 10, key="steps"))
kind = st.sidebar.radio(
    "Path",
    ["linear", "slerp"],
    format_func={"linear": "Linear", "slerp": "Spherical (slerp)"}.get,
    key="kind",
    help="Under a Gaussian prior most codes lie near a sphere; a straight line between two of them dips "
    "through the low-norm middle, slerp follows the sphere.",
)

if endpoints == "Two test digits":
    start_col, end_col, _ = st.columns([1, 1, 6])
    with start_col:
        display.show_digit(digits.gray(a), caption=f"Start: a {digits.labels[a]}", scale=3)
    with end_col:
        display.show_digit(digits.gray(b), caption=f"End: a {digits.labels[b]}", scale=3)

entries = models.available(lambda c: c.has_latent and c.latent_dim > 2)
display.warn_unavailable(models.unavailable(models.with_latent))
without_encoder = [e for e in entries if not e.capabilities.has_encoder]
gan_class = None
if endpoints == "Two random codes" and any(e.capabilities.conditional for e in entries):
    gan_class = widgets.class_picker(
        "Class for the conditional models", key="interp_class", allow_each=False, default=3
    )
display.require(entries, "model with a latent space (autoencoder, VAE or GAN)")
with display.timed("Decoding the paths..."):
    for entry in entries:
        model = widgets.get_model(entry.name)
        if model is None:
            continue
        if endpoints == "Two test digits":
            if not model.capabilities.has_encoder:
                continue  # no encoder (a GAN): there is no code for a given digit
            z = model.encode(digits.gray([a, b]))  # a VAE's posterior means
        else:
            z = model.random_latents(2, seed=seed)
        path = latent.interpolate(z[0], z[1], steps, kind)
        labels = np.full(steps, gan_class) if model.conditional else None
        st.markdown(f"**{model.title}**" + (f" (a {gan_class} all the way)" if model.conditional else ""))
        display.show_digits(model.decode(path, labels), cols=steps, scale=3)
note = (
    " Models without an encoder (the GANs) have no code for a given digit: choose two random codes to see them too."
    if without_encoder and endpoints == "Two test digits"
    else " The same seed gives the same codes to every model with the same latent size."
)
st.caption(f"{steps} codes from start to end ({kind}), each decoded to a 28 x 28 image.{note}")

st.divider()
st.subheader("The 2-d VAE's latent manifold")
st.caption(
    "With a 2-d latent the whole code space fits on screen: each cell is the decoder's image for the code at its "
    "center; dots are the encoder's means for the 500 test digits, colored by their true label. The labels were never "
    "used in training: the classes separate because that explains the pixels."
)
manifold = next(iter(models.available(lambda c: c.has_encoder and c.has_prior and c.latent_dim == 2)), None)
if manifold is None:
    st.info("The 2-d VAE is not available.")
    st.stop()
model = widgets.get_model(manifold.name)
if model is None:
    st.stop()
left, right = st.columns([3, 1])
span = left.slider("Extent of the grid (prior standard deviations)", 1.0, 4.0, 3.0, step=0.5, key="span")
dots = right.toggle("Test codes", value=True, key="manifold_dots", help="Show the encoded test digits as dots")
with display.timed("Decoding the manifold..."):
    png = manifold_png(manifold.name, span, dots, models.folder())
raster.show(png)
