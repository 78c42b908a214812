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
track, entries = widgets.likelihood_track(entries)

left, right = st.columns([1, 2], gap="large")
with left:
    st.markdown("**The digit the probes are made from, and your own probe**")
    chosen = widgets.digit_input()
if chosen is None:
    st.stop()
digit = chosen.of_kind(track)
probe_images = probes(digit, kind=track)
if chosen.label is None:
    probe_images = {"your digit": digit, **{k: v for k, v in probe_images.items() if k != "the digit itself"}}
with left:
    display.show_digits(np.stack(list(probe_images.values())), cols=3, scale=3, labels=list(probe_images))

rows, marks, bounds = [], [], []
with display.timed("Scoring the probes..."):
    for entry in entries:
        model = widgets.get_model(entry.name)
        if model is None:
            continue
        test = bits_per_dim(models.test_nll(entry.name))
        if model.density == "bound":
            k = model.card.metrics.iwae_k
            bounds.append(f"{model.title}: k = {k}" if k else f"{model.title}: its variational bound")
        rows += [{"model": entry.title, "bits/dim": float(v)} for v in test]
        scores = bits_per_dim(models.nll_of(entry.name, np.stack(list(probe_images.values()))))
        for probe, score in zip(probe_images, scores, strict=True):
            marks.append({
                "model": entry.title, "probe": probe, "bits/dim": float(score),
                "likelier than test digits (%)": float(100 * (test > score).mean()),
            })  # fmt: skip
# One chart per model, each on an axis that shows its test digits (a probe far out, like noise at 19 bits/dim,
# would squeeze them into a sliver); probes beyond it are marked at the edge, with their value.
probe_names = list(probe_images)


def probe_color(legend: bool) -> alt.Color:
    """One colour per probe in every chart; the legend once, under the last chart, in two columns."""
    return alt.Color(
        "probe:N", title="Probe", sort=probe_names, scale=alt.Scale(domain=probe_names, scheme="category10"),
        legend=alt.Legend(orient="bottom", labelLimit=0, columns=2, labelFontSize=12) if legend else None,
    )  # fmt: skip


test_frame, mark_frame = pd.DataFrame(rows), pd.DataFrame(marks)
charts, shown = [], [e for e in entries if e.title in set(test_frame["model"])]
for i, entry in enumerate(shown):
    last = i == len(shown) - 1
    test = test_frame[test_frame["model"] == entry.title]
    lo, hi = float(test["bits/dim"].min()), float(test["bits/dim"].max())
    lo, hi = lo - 0.08 * (hi - lo), hi + 0.08 * (hi - lo)
    these = mark_frame[mark_frame["model"] == entry.title].copy()
    these["side"] = np.where(these["bits/dim"] > hi, "right", np.where(these["bits/dim"] < lo, "left", "inside"))
    # Markers beyond the axis stack down from the top of the plot, one row each, on their own 0-1 scale.
    beyond_counts = these.loc[these["side"] != "inside", "side"].value_counts()
    most = int(beyond_counts.max()) if len(beyond_counts) else 1
    step = min(0.16, 0.84 / max(most - 1, 1))  # the rows fit between 0.92 and 0.08 however many there are
    these["row"] = 0.92 - step * these.groupby("side").cumcount()
    these["edge"] = np.where(these["side"] == "right", hi, lo)
    these["label"] = [
        f"{p}: {v:.2f} ▶" if side == "right" else f"◀ {p}: {v:.2f}"
        for p, v, side in zip(these["probe"], these["bits/dim"], these["side"], strict=True)
    ]
    x = alt.X(
        "bits/dim:Q", bin=alt.Bin(maxbins=40, extent=[lo, hi]), scale=alt.Scale(domain=[lo, hi]),
        title="negative log-likelihood (bits per dimension)" if last else None,
    )  # fmt: skip
    hist = alt.Chart(test).mark_bar(opacity=0.6, color="#9aa4b8").encode(x=x, y=alt.Y("count():Q", title="test digits"))
    inside = (
        alt.Chart(these[these["side"] == "inside"])
        .mark_rule(strokeWidth=2.5)
        .encode(
            x=alt.X("bits/dim:Q", scale=alt.Scale(domain=[lo, hi])),
            color=probe_color(last),
            tooltip=["probe", alt.Tooltip("bits/dim:Q", format=".3f")],
        )
    )
    beyond = these[these["side"] != "inside"]
    slot = alt.Y("row:Q", scale=alt.Scale(domain=[0, 1]), axis=None)
    layers = [hist, inside]
    for side, shape, align, dx in (("right", "triangle-right", "right", -10), ("left", "triangle-left", "left", 10)):
        part = beyond[beyond["side"] == side]
        if part.empty:
            continue
        where = alt.X("edge:Q", scale=alt.Scale(domain=[lo, hi]))
        layers.append(
            alt.Chart(part).mark_point(shape=shape, filled=True, size=110, opacity=1)
            .encode(x=where, y=slot, color=probe_color(last), tooltip=["probe", alt.Tooltip("bits/dim:Q", format=".3f")])
        )  # fmt: skip
        layers.append(
            alt.Chart(part).mark_text(align=align, dx=dx, fontSize=12)
            .encode(x=where, y=slot, text="label:N", color=probe_color(last))
        )  # fmt: skip
    charts.append(
        alt.layer(*layers)
        .resolve_scale(y="independent")
        # room at the right for a tick label centred on the axis's end (it would hang past the chart's edge)
        .properties(
            title=alt.TitleParams(entry.title, anchor="start", fontSize=13),
            height=130,
            padding={"left": 5, "top": 5, "right": 18, "bottom": 5},
        )
    )
with right:  # one chart a model, each as wide as the column (a phone's too), the probes' legend under the last
    for i, chart in enumerate(charts):  # the element's height holds the title, the axes and the last one's legend
        st.altair_chart(chart, width="stretch", height=440 if i == len(charts) - 1 else 210)
table = pd.DataFrame(marks).pivot(index="probe", columns="model", values="bits/dim").reindex(list(probe_images))
st.dataframe(table.style.format("{:.3f}"), width="stretch")
blank = [m for m in marks if m["probe"].startswith("blank") and m["likelier than test digits (%)"] > 50]
st.caption(
    "Bits/dim of each probe under each model (lower is likelier); histograms: the 500 "
    + (
        "fixed-binary test digits (exact for autoregressive models; IWAE bounds for "
        if track == "binary"
        else "8-bit test digits and 8-bit probes (exact for autoregressive models and, up to dequantization, the flow; "
        "bounds for "
    )
    + f"{'; '.join(bounds) or 'none'}, the probes scored the same way). "
    + (
        f"The blank image is rated likelier than most real digits by {', '.join(m['model'] for m in blank)}. "
        if blank
        else ""
    )
    + "This is a known finding, not a bug: a likelihood rewards images that are easy to predict, and an empty or "
    "simple image is easier to predict than any digit (Nalisnick et al. 2019, 'Do deep generative models know what "
    "they don't know?'). High likelihood is not the same as 'looks like the training data'."
)
