"""Reconstruct: encode a digit, decode it back, with every model that has an encoder."""

import numpy as np
import streamlit as st

from app import display, models, widgets

display.header(
    "Reconstruct",
    "An encoder compresses the image into a short code; the decoder must rebuild all 784 pixels from it. "
    "What survives the bottleneck is what the model learned to keep.",
)

left, right = st.columns([1, 2], gap="large")
with left:
    chosen = widgets.digit_input()
if chosen is None:
    st.stop()
digit = chosen.image
if not chosen.shown:  # an upload or a drawing is already shown as the models see it, by the input widget
    with left:
        display.show_digit(digit, caption=f"Input, as the models see it (28 x 28): {chosen.description}")

display.warn_unavailable(models.unavailable(models.with_encoder))
entries = models.available(models.with_encoder)
with right:
    display.require(entries, "model with an encoder")
    columns = st.columns(len(entries))
    for col, entry in zip(columns, entries, strict=True):
        model = widgets.get_model(entry.name)
        if model is None:
            continue
        with col:
            recon = model.reconstruct(digit)[0]
            error = float(model.reconstruction_error(digit)[0])
            display.show_digit(recon, caption=model.title, scale=6)
            st.metric(
                "Reconstruction error",
                f"{error:.1f} nats",
                help="Binary cross-entropy of the input under the decoded pixel probabilities, summed over 784 pixels: the training loss.",
            )
            st.caption(f"Mean squared error per pixel: {float(np.mean((recon - digit) ** 2)):.4f}")

st.caption(
    "The autoencoder is trained only to reconstruct, so it usually reconstructs best. The VAE also pays for "
    "every nat of information its code carries (the KL term of the ELBO), and the 2-d VAE has only two numbers "
    "to describe the digit, so it returns a typical digit of the class it guesses."
)
