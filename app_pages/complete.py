"""Complete: hide part of a digit and let each autoregressive model fill it in."""

import numpy as np
import streamlit as st

from app import display, models, widgets
from inference.autoregressive import HIDE_KINDS, hidden_mask

display.header(
    "Complete",
    "An autoregressive model can fill in what is hidden: pixel by pixel in raster order, each hidden pixel is drawn "
    "from p(x_i | every pixel above and to its left), visible pixels are kept and condition what follows.",
)

display.warn_unavailable(models.unavailable(models.completes))
entries = display.require(models.available(models.completes), "autoregressive model")

hide = st.sidebar.radio("Hide", list(HIDE_KINDS), format_func=HIDE_KINDS.get, key="hide")
rows = int(st.sidebar.slider("Rows to hide", 1, 27, 10, key="hide_rows")) if hide == "rows" else 10
n = int(st.sidebar.slider("Completions per model", 1, 8, 4, key="completions"))
seed = widgets.seed_input()
temperature = widgets.temperature("autoregressive", latent=False)

left, right = st.columns([1, 2], gap="large")
with left:
    chosen = widgets.digit_input()
if chosen is None:
    st.stop()

mask = hidden_mask(hide, 28, rows)
label = chosen.label
if label is None and any(e.capabilities.conditional for e in entries):
    label = widgets.class_picker("Class for the conditional model", key="complete_class", allow_each=False, default=0)
kinds = list(dict.fromkeys(e.capabilities.image_kind for e in entries))  # binary first, then 8-bit
with left:
    for kind in kinds:
        what = "binarized" if kind == "binary" else "at 256 grey levels"
        who = "" if len(kinds) == 1 else (" binary models" if kind == "binary" else " 8-bit models")
        display.show_digit(
            np.where(mask, 0.3, chosen.of_kind(kind)),
            caption=f"What the{who} see: {chosen.description}, {what}, hidden part in gray",
            scale=6 if len(kinds) == 1 else 4,
        )

with right:
    for entry in entries:
        model = widgets.get_model(entry.name)
        if model is None:
            continue
        kind = model.capabilities.image_kind
        with st.spinner(f"Completing with {model.title}...", show_time=True):
            filled, seconds = models.completion(
                entry.name, chosen.of_kind(kind), mask, n, seed, temperature, label if model.conditional else None
            )
        st.markdown(f"**{model.title}**" + (f" (asked for a {label})" if model.conditional else ""))
        display.show_digits(filled, cols=n, scale=4)
        multiscale = model.capabilities.pixel_order == "multiscale"
        st.caption(
            f"{n} completions (28 x 28, {'binary' if kind == 'binary' else '256 grey levels'}) drawn in "
            f"{seconds:.2f} s, {'coarse to fine' if multiscale else 'fast sampler'}, seed {seed}."
            + (
                " Its order is coarse to fine: a hidden pixel sees the coarser levels and the earlier groups of its "
                "own level, visible or drawn, but not visible pixels that come later in that order."
                if multiscale
                else ""
            )
        )

st.caption(
    "Raster order only looks up and left: when the right half is hidden, the pixels sampled on the right of a row "
    "cannot see the visible left part of the rows below them, so completions of the right half are harder."
)
