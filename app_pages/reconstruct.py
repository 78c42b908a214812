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
errors, card_errors, shown = {}, {}, {}
with right:
    display.require(entries, "model with an encoder")
    columns = st.columns(len(entries))
    for col, entry in zip(columns, entries, strict=True):
        model = widgets.get_model(entry.name)
        if model is None:
            continue
        with col:
            recon = model.reconstruct(digit)[0]
            display.show_digit(recon, caption=model.title, scale=6)
            if model.capabilities.image_kind != "binary":  # a flow: invertible, so exact up to the 8-bit levels
                levels = int(np.abs(np.round(recon * 255) - np.round(digit * 255)).max())
                st.metric("Reconstruction", "exact", help="A flow's code is its input mapped by an invertible network.")
                st.caption(f"Largest pixel difference: {levels} of 255 grey levels.")
                shown[model.title] = model
                continue
            error = float(model.reconstruction_error(digit)[0])
            st.metric(
                "Reconstruction error",
                f"{error:.1f} nats",
                help="Binary cross-entropy of the input under the decoded pixel probabilities, summed over 784 pixels: the training loss.",
            )
            st.caption(f"Mean squared error per pixel: {float(np.mean((recon - digit) ** 2)):.4f}")
        errors[model.title] = error
        shown[model.title] = model
        if model.card.metrics.recon_nats is not None:
            card_errors[model.title] = float(model.card.metrics.recon_nats)


def ranked(figures: dict[str, float]) -> str:
    """Lowest first, "<" between figures that differ as shown (to 0.1 nat), "≈" between those that do not."""
    order = sorted(figures, key=figures.get)
    text = f"{order[0]} ({figures[order[0]]:.1f})"
    for a, b in zip(order, order[1:], strict=False):
        text += f" {'≈' if f'{figures[a]:.1f}' == f'{figures[b]:.1f}' else '<'} {b} ({figures[b]:.1f})"
    return text


# Every comparison below is read from the figures on the page and the cards, never typed.
if errors:
    best = min(errors, key=errors.get)
    lines = [f"Reconstruction error on this digit, lowest first: {ranked(errors)} nats."]
    if len(card_errors) > 1:
        lines.append(f"Over the 500 test digits (each model's card): {ranked(card_errors)} nats.")
        card_best = min(card_errors, key=card_errors.get)
        if best != card_best and f"{errors[best]:.1f}" != f"{errors[card_best]:.1f}":
            lines.append(f"So the {best} wins on this digit, though the {card_best} does over the test split.")
    trained_only = [t for t, m in shown.items() if not m.capabilities.has_prior]
    with_prior = [t for t, m in shown.items() if m.capabilities.has_prior and m.capabilities.image_kind == "binary"]
    if trained_only and with_prior:
        lines.append(
            f"The {trained_only[0]} is trained only to reconstruct; a VAE also pays for every nat of information "
            "its code carries (the KL term of the ELBO): the price of a prior to sample from."
        )
    small = [t for t, m in shown.items() if m.latent_dim is not None and m.latent_dim <= 2]
    if small:
        lines.append(
            f"The {small[0]} has only {shown[small[0]].latent_dim} numbers to describe the digit, so it returns a "
            "typical digit of the class it guesses."
        )
    exact = [t for t, m in shown.items() if m.capabilities.image_kind != "binary"]
    if exact:
        lines.append(
            f"The {exact[0]} is a flow: its code is the image itself, mapped by an invertible network, so nothing is "
            "lost and it returns the input exactly; the bottleneck the others have is what makes them compress."
        )
    st.caption(" ".join(lines))
