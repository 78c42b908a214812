"""Compare: every shipped model side by side, from the figures in its card and at the same seed."""

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st

from inference import ui
from inference.autoregressive import hidden_mask

ui.header(
    "Compare",
    "One test split, one binarization, one seed: the likelihood where a family has one (exact, or a bound), "
    "sample quality for every model, and what each costs in time and size.",
)

entries = ui.available()
if not entries:
    st.info("No model cards in exported/. Run `python -m training all`.")
    st.stop()
titles = {e.name: e.title for e in entries}
chosen = st.sidebar.multiselect(
    "Models", list(titles), default=list(titles), format_func=lambda n: titles.get(n, n), key="compare_models"
)
seed = ui.seed_input()
picked = [e for e in entries if e.name in chosen]
if not picked:
    st.info("Pick at least one model in the sidebar.")
    st.stop()

DENSITY = {"exact": "exact", "bound": "bound (IWAE)", "none": "none"}
floor = next((e.card["metrics"].get("sample_quality", {}) for e in entries if e.card["architecture"] == "classifier"), {})
rows = []
for e in picked:
    card, m = e.card, e.card.get("metrics", {})
    q, c = m.get("sample_quality", {}), card.get("comparison", {})
    reference = q.get("fcd_reference", "")
    rows.append(
        {
            "Model": e.title,
            "Family": card.get("family"),
            "Density": DENSITY.get(card.get("density"), card.get("density")),
            "NLL (nats)": m.get("nll_nats"),
            "Bits/dim": m.get("bits_per_dim"),
            "FCD": q.get("fcd"),
            "FCD floor": floor.get("fcd_floor_binary" if "binary" in reference else "fcd_floor_grayscale") if q else None,
            "Class acc. (%)": 100 * q["class_accuracy"] if "class_accuracy" in q else (100 * m["test_accuracy"] if "test_accuracy" in m else None),
            "16 samples (ms)": 1000 * c["sample_seconds_16"] if "sample_seconds_16" in c else None,
            "64 samples (ms)": 1000 * c["sample_seconds_64"] if "sample_seconds_64" in c else None,
            "Parameters": card.get("parameters"),
            "ONNX (MB)": c.get("onnx_bytes", sum(n.get("bytes", 0) for n in card.get("networks", {}).values())) / 1e6,
            "Training (min)": card.get("training", {}).get("seconds", 0) / 60,
        }
    )
table = pd.DataFrame(rows)
st.dataframe(
    table,
    hide_index=True,
    column_config={
        "NLL (nats)": st.column_config.NumberColumn(format="%.1f", help="-log p(x) per test image, nats: exact or an IWAE bound"),
        "Bits/dim": st.column_config.NumberColumn(format="%.3f", help="NLL / (784 ln 2)"),
        "FCD": st.column_config.NumberColumn(format="%.2f", help="Frechet classifier distance, 1,000 samples vs the test split"),
        "FCD floor": st.column_config.NumberColumn(format="%.2f", help="Real train digits against the test split"),
        "Class acc. (%)": st.column_config.NumberColumn(format="%.1f", help="Samples classified as the class asked for (classifier: test accuracy)"),
        "16 samples (ms)": st.column_config.NumberColumn(format="%.1f"),
        "64 samples (ms)": st.column_config.NumberColumn(format="%.1f"),
        "Parameters": st.column_config.NumberColumn(format="localized"),
        "ONNX (MB)": st.column_config.NumberColumn(format="%.2f"),
        "Training (min)": st.column_config.NumberColumn(format="%.1f", help="On the machine in each card"),
    },
)  # fmt: skip
st.caption(
    "Click a column to sort. Sampling times are the app's own samplers on this project's 2-core CPU (autoregressive "
    "models with their fast sampler). FCD compares binary samples with the binary test split and grayscale ones with "
    "the grayscale split; the floor is what real digits score."
)

left, right = st.columns(2)
with left:
    data = table.dropna(subset=["NLL (nats)", "64 samples (ms)"])
    if len(data):
        st.altair_chart(
            alt.Chart(data)
            .mark_circle(size=140)
            .encode(
                x=alt.X("64 samples (ms):Q", scale=alt.Scale(type="log"), title="time to sample 64 images (ms, log scale)"),
                y=alt.Y("NLL (nats):Q", scale=alt.Scale(zero=False), title="test NLL (nats per image)"),
                color=alt.Color("Family:N"),
                tooltip=["Model", alt.Tooltip("NLL (nats):Q", format=".1f"), alt.Tooltip("64 samples (ms):Q", format=".1f")],
            )
            .properties(title="Likelihood against sampling time", height=300),
            width="stretch",
        )
        st.caption("Lower is better on both axes: the autoregressive models buy their exact likelihood with sequential sampling.")
with right:
    data = table.dropna(subset=["FCD"])
    if len(data):
        st.altair_chart(
            alt.Chart(data)
            .mark_circle(size=140)
            .encode(
                x=alt.X("Parameters:Q", scale=alt.Scale(type="log"), title="parameters (log scale)"),
                y=alt.Y("FCD:Q", title="FCD to the test split (lower is better)"),
                color=alt.Color("Family:N"),
                tooltip=["Model", alt.Tooltip("FCD:Q", format=".2f"), "Parameters"],
            )
            .properties(title="Sample quality against model size", height=300),
            width="stretch",
        )
        st.caption("Sample quality is not bought by size alone: the family and how it is trained matter more here.")


@st.cache_data(show_spinner=False, max_entries=64)
def grid(name: str, kind: str, seed: int, folder: str) -> np.ndarray:
    """A model's row for the side-by-side views, cached so sorting and filtering stay instant."""
    model = ui.cached_model(name, folder)
    digits = ui.test_digits()
    rng = np.random.default_rng(seed)
    if kind == "samples":
        labels = np.arange(8) if getattr(model, "conditional", False) else None
        return model.sample(8, seed=seed, **({"labels": labels} if labels is not None else {}))
    idx = rng.choice(len(digits), size=8 if kind == "reconstructions" else 4, replace=False)
    if kind == "reconstructions":
        return model.reconstruct(digits.gray(idx))
    labels = digits.labels[idx] if model.conditional else None
    hidden = hidden_mask("bottom")
    return np.stack([model.complete(digits.binary[i].astype(np.float32), hidden, n=1, seed=seed, labels=None if labels is None else labels[k])[0] for k, i in enumerate(idx)])


folder = str(ui.exported_dir())
sections = [
    ("samples", "Samples at the same seed", ui.GENERATIVE,
     "8 samples from each model with seed {seed}; conditional models are asked for 0 to 7."),
    ("reconstructions", "Reconstructions of the same test digits", ["autoencoder", "vae"],
     "The same 8 test digits (first row), encoded and decoded by every model with an encoder."),
    ("completions", "Completions of the same half-hidden digits", ui.AUTOREGRESSIVE,
     "The same 4 test digits with the bottom half hidden (first row: the originals), completed once by each model."),
]  # fmt: skip
with ui.timed("Drawing every model at the same seed..."):
    for kind, title, architectures, note in sections:
        models = [e for e in picked if e.card["architecture"] in architectures]
        if not models:
            continue
        st.subheader(title)
        digits = ui.test_digits()
        rng = np.random.default_rng(seed)
        if kind != "samples":
            idx = rng.choice(len(digits), size=8 if kind == "reconstructions" else 4, replace=False)
            ui.show_digits(digits.gray(idx) if kind == "reconstructions" else digits.binary[idx], cols=len(idx), scale=3, caption="originals")
        for e in models:
            if ui.get_model(e.name) is None:  # says why on the page
                continue
            st.markdown(f"**{e.title}**")
            ui.show_digits(grid(e.name, kind, seed, folder), cols=8 if kind != "completions" else 4, scale=3)
        st.caption(note.format(seed=seed))
