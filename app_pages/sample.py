"""Sample: draw new digits from a model."""

import numpy as np
import streamlit as st

from inference import images as img
from inference import ui

ui.header("Sample", "A latent-variable model generates in two steps: draw a code z from the prior p(z), then decode it into p(x | z).")

model = ui.pick_model("Model", architectures=["vae", "autoencoder"], default="vae")
n = int(st.sidebar.slider("Number of samples", 1, 64, 16, key="n", bind="query-params"))
seed = ui.seed_input()
temperature = float(
    st.sidebar.slider(
        "Temperature (prior scale)",
        0.1,
        2.0,
        1.0,
        step=0.05,
        key="temperature",
        bind="query-params",
        help="Codes are drawn with this many times the prior's standard deviation: below 1 gives typical, "
        "cleaner digits; above 1 reaches the edges of the latent space.",
    )
)
show = st.sidebar.radio(
    "Show",
    ["mean", "binary"],
    format_func={"mean": "Pixel probabilities p(x | z)", "binary": "A binary sample x ~ p(x | z)"}.get,
    key="show",
    help="The decoder gives each pixel a probability of being on. A binary sample flips those coins, "
    "which is what the model's likelihood is about.",
)

if model.has_prior:
    st.caption(f"z ~ N(0, {temperature:g}² I) in {model.latent_dim} dimensions, decoded by the VAE's p(x | z).")
else:
    st.caption(
        "An autoencoder has no prior: here codes come from a Gaussian fitted to its training codes. "
        "Many still fall in holes between the codes it learned and decode to something that is not a digit: "
        "that is the gap the VAE's prior closes."
    )

with ui.timed("Sampling...") as t:
    probs = model.sample(n, seed=seed, temperature=temperature)
    if show == "binary":
        probs = (np.random.default_rng(seed).random(probs.shape) < probs).astype("float32")

cols = min(n, 8)
ui.show_digits(probs, cols=cols, scale=4)
st.caption(f"{n} samples of 28 x 28 pixels from {model.title}, seed {seed}, generated in {t['seconds'] * 1000:.0f} ms.")
st.download_button(
    "Download grid (PNG)",
    img.grid_png(probs, cols=cols, scale=4),
    file_name=f"{model.name}_seed{seed}_n{n}_t{temperature:g}.png",
    mime="image/png",
    icon=":material/download:",
    on_click="ignore",
)
