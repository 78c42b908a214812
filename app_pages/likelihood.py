"""Likelihood: which pixels surprise each autoregressive model, and how likely the whole image is."""

import textwrap

import numpy as np
import streamlit as st

from app import display, models, plots, raster, widgets
from inference.numeric import bits_per_dim

display.header(
    "Likelihood",
    "By the chain rule an autoregressive model's log-likelihood is exact: log p(x) = sum over the 784 pixels of "
    "log p(x_i | x_<i). The maps show each term's surprise, -log p(x_i | x_<i), in nats.",
)

display.warn_unavailable(models.unavailable(models.chain_rule))
entries = display.require(models.available(models.chain_rule), "autoregressive model")
track, entries = widgets.likelihood_track(entries)
binary = track == "binary"

INPUT_SCALE = 6  # the input digit, and so each surprise map, is 28 x 6 = 168 px on the page
left, right = st.columns([1, 2], gap="large")
with left:
    chosen = widgets.digit_input()
if chosen is None:
    st.stop()
with right:
    display.show_digit(
        chosen.of_kind(track),
        caption=f"{chosen.description}, " + ("binarized as the test split is" if binary else "at 256 grey levels"),
        scale=INPUT_SCALE,
    )

maps, marks, test, loaded = {}, {}, {}, {}
for entry in entries:
    model = widgets.get_model(entry.name)
    if model is None:
        continue
    loaded[entry.name] = model
    x = chosen.of_kind(track)[None]
    if model.conditional:
        per_class = model.class_log_probs(x)[0]
        label = chosen.label if chosen.label is not None else int(np.argmax(per_class))
        maps[entry.name] = (model.pixel_nll(x, np.array([label]))[0], f"given the class {label}")
    else:
        maps[entry.name] = (model.pixel_nll(x)[0], "")
    marks[model.title] = float(-model.log_prob(x)[0])

st.subheader("Which pixels surprise each model")
vmax = max(float(m.max()) for m, _ in maps.values()) if maps else None
# One row of equal tiles, each map as large as the input above, one colour scale for all.
for col, (name, (nll_map, given)) in zip(st.columns(max(len(maps), 1)), maps.items(), strict=False):
    model = loaded[name]
    total = marks[model.title]
    with col:
        title = f"{model.title}, {given}" if given else model.title
        png = raster.heatmap(
            nll_map, 0.0, vmax, "magma", textwrap.fill(title, 30), "nats per pixel", 28 * INPUT_SCALE, title_lines=3
        )
        raster.show(png)
        st.metric(
            "-log p(x)",
            f"{total:.1f} nats",
            help="Exact; for the conditional model, of p(x) with the class summed out."
            + ("" if binary else " Each pixel's term is the probability of its grey level among 256."),
        )
        st.caption(
            f"{bits_per_dim(total):.3f} bits/dim"
            + (
                "; its order is coarse to fine (7 x 7, then groups of the 14 x 14 and 28 x 28 levels), so x_<i are "
                "the pixels of earlier levels and groups, and neighbours within a group do not help each other"
                if model.capabilities.pixel_order == "multiscale"
                else ""
            )
        )
for name, model in loaded.items():
    test[model.title] = models.test_nll(name)

st.subheader("Where this image falls among the test digits")
st.altair_chart(plots.nll_distribution(test, marks), width="stretch")
rank = {t: float((test[t] < v).mean() * 100) for t, v in marks.items()}
st.caption(
    f"Histograms: -log p(x) of the 500 {'fixed-binary' if binary else '8-bit'} test digits under each model (nats per "
    "image); dashed lines: this image. "
    + "; ".join(f"{t}: more surprising than {r:.0f}% of test digits" for t, r in rank.items())
    + "."
)
