"""Image likelihoods: the test split's NLL under every likelihood model, and inputs that are not digits."""

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st

from app import display, models, widgets
from inference.numeric import bits_per_dim
from inference.probes import probes

display.header(
    "Image likelihoods and out-of-distribution inputs",
    "A density model should find real digits likely and anything else unlikely. Where each model places the test "
    "digits, and where it places inputs it never saw, tests whether its likelihood means what we hope.",
)

display.warn_unavailable(models.unavailable(models.with_likelihood))
entries = display.require(models.available(models.with_likelihood), "model with a likelihood")

left, right = st.columns([1, 2], gap="large")
with left:
    st.markdown("**The digit the probes are made from, and your own probe**")
    chosen = widgets.digit_input()
if chosen is None:
    st.stop()
probe_images = probes(chosen.binary)
if chosen.label is None:
    probe_images = {"your digit": chosen.binary, **{k: v for k, v in probe_images.items() if k != "the digit itself"}}
with left:
    display.show_digits(np.stack(list(probe_images.values())), cols=4, scale=3, caption=" | ".join(probe_images))

rows, marks, bounds = [], [], []
with display.timed("Scoring the probes..."):
    for entry in entries:
        model = widgets.get_model(entry.name)
        if model is None:
            continue
        test = bits_per_dim(models.test_nll(entry.name))
        if model.density == "bound":
            bounds.append(f"{model.title}: k = {model.card.metrics.iwae_k}")
        rows += [{"model": entry.title, "bits/dim": float(v)} for v in test]
        scores = bits_per_dim(models.nll_of(entry.name, np.stack(list(probe_images.values()))))
        for probe, score in zip(probe_images, scores, strict=True):
            marks.append({
                "model": entry.title, "probe": probe, "bits/dim": float(score),
                "likelier than test digits (%)": float(100 * (test > score).mean()),
            })  # fmt: skip
# One data set for both layers (faceting needs it at the top level): test digits and probes, told apart by "kind".
both = pd.concat([pd.DataFrame(rows).assign(kind="test"), pd.DataFrame(marks).assign(kind="probe")], ignore_index=True)
hist = (
    alt.Chart()
    .mark_bar(opacity=0.6)
    .encode(
        x=alt.X("bits/dim:Q", bin=alt.Bin(maxbins=40), title="negative log-likelihood (bits per dimension)"),
        y=alt.Y("count():Q", title="test digits"),
    )
    .transform_filter(alt.datum.kind == "test")
)
rules = (
    alt.Chart()
    .mark_rule(strokeWidth=2.5)
    .encode(
        x="bits/dim:Q",
        color=alt.Color("probe:N", title="Probe"),
        tooltip=["probe", alt.Tooltip("bits/dim:Q", format=".3f")],
    )
    .transform_filter(alt.datum.kind == "probe")
)
with right:
    chart = (
        alt.layer(hist, rules, data=both).properties(height=120, width=520).facet(row=alt.Row("model:N", title=None))
    )
    st.altair_chart(chart.resolve_scale(x="independent"))
table = pd.DataFrame(marks).pivot(index="probe", columns="model", values="bits/dim").reindex(list(probe_images))
st.dataframe(table.style.format("{:.3f}"), width="stretch")
blank = [m for m in marks if m["probe"].startswith("blank") and m["likelier than test digits (%)"] > 50]
st.caption(
    "Bits/dim of each probe under each model (lower is likelier); histograms: the 500 fixed-binary test digits "
    f"(exact for autoregressive models; IWAE bounds for {'; '.join(bounds) or 'none'}, the probes scored the same way). "
    + (
        f"The blank image is rated likelier than most real digits by {', '.join(m['model'] for m in blank)}. "
        if blank
        else ""
    )
    + "This is a known finding, not a bug: a likelihood rewards images that are easy to predict, and an empty or "
    "simple image is easier to predict than any digit (Nalisnick et al. 2019, 'Do deep generative models know what "
    "they don't know?'). High likelihood is not the same as 'looks like the training data'."
)
