"""Compare: every shipped model side by side, from the figures in its card and at the same seed."""

import altair as alt
import streamlit as st

from app import display, live, models, tables, widgets
from inference import views

display.header(
    "Compare",
    "One test split, one binarization: the likelihood where a family has one (exact, or a bound), sample quality "
    "for every model with its spread over sample seeds, and what each costs in time and size; two models are ranked "
    "only where their intervals separate them.",
)

display.warn_unavailable(models.unavailable())
entries = display.require(models.available(), "model")
titles = {e.name: e.title for e in entries}
chosen = st.sidebar.multiselect(
    "Models", list(titles), default=list(titles), format_func=lambda n: titles.get(n, n), key="compare_models"
)
seed = widgets.seed_input()
picked = [e for e in entries if e.name in chosen]
if not picked:
    st.info("Pick at least one model in the sidebar.")
    st.stop()

table = tables.model_table(picked, every=entries)
tables.show(
    table,
    ["Model", "Family", "Density", "NLL (nats)", "Bits/dim, 8-bit", "FCD", "FCD 95% interval", "FCD (MLP judge)",
     "Class acc. (%)", "64 samples (ms)", "Parameters"],
)  # fmt: skip
with st.expander("Every figure: standard errors and deviations, floors, both judges' intervals, size, training time"):
    tables.show(
        table,
        ["Model", "NLL (nats)", "NLL s.e.", "Bits/dim", "Bits/dim, 8-bit", "FCD", "FCD sd", "FCD 95% interval",
         "FCD floor", "FCD (MLP judge)", "MLP interval", "Class acc. (%)", "Class acc. sd", "16 samples (ms)",
         "64 samples (ms)", "Parameters", "ONNX (MB)", "Training (min)"],
    )  # fmt: skip
machines = sorted({e.card.measured_on.rsplit(",", 1)[0] for e in picked if e.card.measured_on})
st.caption(
    "Click a column to sort. FCD: 1,000 samples per seed, mean and spread over 5 seeds, with a 95% bootstrap interval "
    "over the test digits; binary samples are compared with the binary test split and the others with the grayscale "
    "one. Sampling times are the app's own samplers (autoregressive models with their fast sampler), measured on "
    f"{'; '.join(machines) or 'the machine in each card'}."
)
st.markdown("**Ranked by sample quality**, lower FCD first; `<` where the 95% intervals separate two models, `≈` (tied) "
            "where they overlap:")  # fmt: skip
for line in tables.rankings(picked):
    st.markdown(f"- {line}")
if line := tables.against_latent(picked):
    st.markdown(f"- {line}")

st.subheader("Likelihood, sample quality, sampling time: pick two")
data = table.dropna(subset=["FCD", "64 samples (ms)"])
if len(data):
    points = alt.Chart(data).encode(
        x=alt.X("64 samples (ms):Q", scale=alt.Scale(type="log"), title="time to sample 64 images (ms, log scale)"),
        y=alt.Y("FCD:Q", title="FCD to the test split, CNN judge (lower is better)"),
        color=tables.family_color(),
        tooltip=["Model", "Family", alt.Tooltip("FCD:Q", format=".1f"), alt.Tooltip("64 samples (ms):Q", format=".1f")],
    )
    labels = points.mark_text(align="left", dx=8, fontSize=11).encode(text="Model:N")
    st.altair_chart((points.mark_circle(size=140) + labels).properties(height=340), width="stretch")
    st.caption(
        "Sample quality against sampling time, every family. The GANs draw in one pass and have no likelihood; the "
        "autoregressive models have the best likelihood on their track and sample one pixel at a time; the diffusion "
        "model needs dozens of network calls per sample."
    )
left, right = st.columns(2)
for column, track, field, unit in (
    (left, "binary", "NLL (nats)", "test NLL, fixed-binary digits (nats per image)"),
    (right, "8-bit", "Bits/dim, 8-bit", "test NLL, 8-bit digits (bits per pixel)"),
):
    data = table.dropna(subset=[field, "64 samples (ms)"])
    with column:
        if len(data):
            points = alt.Chart(data).encode(
                x=alt.X("64 samples (ms):Q", scale=alt.Scale(type="log"), title="time to sample 64 images (ms, log)"),
                y=alt.Y(f"{field}:Q", scale=alt.Scale(zero=False), title=unit),
                color=tables.family_color(),
                tooltip=[
                    "Model",
                    alt.Tooltip(f"{field}:Q", format=".3f"),
                    alt.Tooltip("64 samples (ms):Q", format=".1f"),
                ],
            )
            labels = points.mark_text(align="left", dx=8, fontSize=11).encode(text="Model:N")
            st.markdown(f"**Likelihood, {track} track**")  # a page heading, not a chart title Vega may cut
            st.altair_chart((points.mark_circle(size=120) + labels).properties(height=260), width="stretch", height=340)
st.caption(
    "Lower is better on every axis. The two likelihood tracks are kept apart: a binary digit and an 8-bit one are "
    "different data, and their likelihoods are not comparable."
)


rows = [
    ("samples", "Samples at the same seed",
     "8 samples from each model with seed {seed}; conditional models are asked for 0 to 7."),
    ("reconstructions", "Reconstructions of the same test digits",
     "The same 8 test digits (first row), encoded and decoded by every model with an encoder."),
    ("completions", "Completions of the same half-hidden digits",
     "The same 4 test digits with the bottom half hidden (first rows: the originals, binarized for the binary models "
     "and at 256 grey levels for the 8-bit ones), completed once by each model."),
]  # fmt: skip
ready = [e for e in picked if widgets.get_model(e.name) is not None]  # a model that will not load says why
sections = []  # (kind, title, note, the test digits shown first [(images, caption)], the models with a row)
for kind, title, note in rows:
    shown = [e for e in ready if kind in views.row_kinds(e.capabilities)]
    if not shown:
        continue
    originals = []
    if kind == "reconstructions":
        originals.append((views.reconstruction_digits(widgets.test_digits(), seed), "originals"))
    elif kind == "completions":  # binary models complete the binarized digits, 8-bit ones the grey levels
        for image_kind in dict.fromkeys(e.capabilities.image_kind for e in shown):
            which = "binarized (binary models)" if image_kind == "binary" else "256 grey levels (8-bit models)"
            originals.append((views.completion_digits(widgets.test_digits(), image_kind, seed), f"originals, {which}"))
    sections.append((kind, title, note.format(seed=seed), originals, shown))

# The costly rows (the samplers' and the flow's: seconds of the server's time at a new seed) are drawn in the visitor's
# browser, the rest sent from the server; where the browser cannot, or the visitor asks, the server draws them all.
on_server = st.sidebar.toggle(
    "Draw every row on the server",
    key="compare_on_server",
    bind="query-params",
    help="The autoregressive, diffusion and flow rows are drawn in your browser, from the server's noise; this draws "
    "them on the server instead.",
)
if not on_server and sections:
    with display.timed("Drawing the rows the server draws at this seed..."):
        args, byte_args = live.compare_args(sections, seed)
    if live.show("rows", args, byte_args) is None:
        st.stop()  # the browser draws the rows; it said so on its first line if it cannot
with display.timed("Drawing every model at the same seed..."):
    for kind, title, note, originals, shown in sections:
        st.subheader(title)
        for images, caption in originals:
            display.show_digits(images, cols=len(images), scale=3, caption=caption)
        for e in shown:
            st.markdown(f"**{e.title}**")
            display.show_digits(models.compare_row(e.name, kind, seed), cols=8 if kind != "completions" else 4, scale=3)
        st.caption(note)
