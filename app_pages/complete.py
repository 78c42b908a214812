"""Complete: hide part of a digit and let each autoregressive model fill it in."""

import numpy as np
import streamlit as st

from app import display, live, models, widgets
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


def caption(model, seconds: str, where: str = "") -> str:
    """What a row of completions says under it: what they are, how long they took, in which order."""
    kind = "binary" if model.capabilities.image_kind == "binary" else "256 grey levels"
    multiscale = model.capabilities.pixel_order == "multiscale"
    text = (
        f"{n} completions (28 x 28, {kind}) drawn in {seconds} s{where}, "
        f"{'coarse to fine' if multiscale else 'fast sampler'}, seed {seed}."
    )
    if multiscale:
        text += (
            " Its order is coarse to fine: a hidden pixel sees the coarser levels and the earlier groups of its own "
            "level, visible or drawn, but not visible pixels that come later in that order."
        )
    return text


ready = [(e, m) for e in entries if (m := widgets.get_model(e.name)) is not None]  # one that will not load says why
asked = {e.name: label if m.conditional else None for e, m in ready}
title = {e.name: m.title + (f" (asked for a {label})" if m.conditional else "") for e, m in ready}
# The samplers run in the visitor's browser (each new mask, seed or digit cost the server about a second); where the
# browser cannot, or the visitor asks, the server draws them.
on_server = st.sidebar.toggle(
    "Complete on the server",
    key="complete_on_server",
    bind="query-params",
    help="The completions are drawn in your browser, from the server's noise; this draws them on the server instead.",
)
in_browser = False
if not on_server and ready:
    rows = live.Rows()
    for entry, model in ready:
        image = chosen.of_kind(model.capabilities.image_kind)
        if not live.browser_completes(entry):  # a sampler the browser does not have: the server's completions
            filled, seconds = models.completion(entry.name, image, mask, n, seed, temperature, asked[entry.name])
            rows.server(
                filled, key=entry.name, title=title[entry.name], caption=caption(model, f"{seconds:.2f}"), scale=4
            )
            continue
        rows.sample(
            entry, n, seed, key=entry.name, title=title[entry.name], done=caption(model, "{seconds}", " in your browser"),
            scale=4, temperature=temperature, labels=asked[entry.name], known=image, hidden=mask,
        )  # fmt: skip
    with right:
        in_browser = live.show("rows", *rows.args()) is None
if not in_browser:
    with right:
        for entry, model in ready:
            kind = model.capabilities.image_kind
            with st.spinner(f"Completing with {model.title}...", show_time=True):
                filled, seconds = models.completion(
                    entry.name, chosen.of_kind(kind), mask, n, seed, temperature, asked[entry.name]
                )
            st.markdown(f"**{title[entry.name]}**")
            display.show_digits(filled, cols=n, scale=4)
            st.caption(caption(model, f"{seconds:.2f}"))

st.caption(
    "Raster order only looks up and left: when the right half is hidden, the pixels sampled on the right of a row "
    "cannot see the visible left part of the rows below them, so completions of the right half are harder."
)
