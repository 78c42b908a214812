"""Density in 2-D: every family's estimate of the same toy distribution, side by side."""

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import streamlit as st

from inference import density, plots, ui
from inference.ganlab import load_lab
from inference.toy import TOYS

ui.header(
    "Density estimation in 2-D",
    "The same data, every family of the taxonomy: explicit exact densities (mixture, flow, autoregressive), an "
    "explicit approximate one (the VAE, by importance sampling), and an implicit model (the GAN: samples only).",
)

TAXONOMY = {
    "mixture": ("Gaussian mixture (EM)", "exact"),
    "flow": ("Spline flow", "exact"),
    "autoregressive": ("Autoregressive p(x₁) p(x₂ | x₁)", "exact"),
    "vae": ("VAE", "estimate (importance sampling, k = 16 on the map)"),
    "gan": ("GAN", "none: KDE of 2,000 of its samples"),
}
CELLS = 200


@st.cache_resource(show_spinner="Loading the density models...")
def shipped(dataset: str, folder: str):
    card = density.load_density_card(folder)
    lab = load_lab(folder)
    lab_card = {"runs": [r.summary for r in lab[0]]} if lab[0] else None
    return density.load_trained(dataset, card or {}, lab_card, folder) if card else ({}, ["run python -m training density"])


@st.cache_data(show_spinner=False, max_entries=64)
def heat(dataset: str, kind: str, folder: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The model's log p(x) on the grid, and 500 of its samples; cached per process."""
    models, _ = shipped(dataset, folder)
    model = models[kind]
    samples = model.sample(2000, seed=0)
    if kind == "gan":
        bw = density.scott_bandwidth(samples)
        ticks, values = density.grid_log_density(lambda x: density.kde_log_density(samples, x, bw), CELLS)
    elif kind == "vae":
        ticks, values = density.grid_log_density(lambda x: model.log_prob(x, k=16), CELLS // 2)
    else:
        ticks, values = density.grid_log_density(model.log_prob, CELLS)
    return ticks, values, samples[:500]


folder = str(ui.exported_dir())
sources = list(TOYS) + ["yours"]
source = st.sidebar.selectbox("Data", sources, format_func=lambda s: "Your points" if s == "yours" else TOYS[s].title, key="d2_data")
show_samples = st.sidebar.toggle("Overlay model samples", value=True, key="d2_samples")

if source == "yours":
    st.markdown("**Your points**: two numbers per line (x₁, x₂), typed or uploaded as CSV. They are fitted live by "
                "EM and a KDE; the trained models learned the toy sets and do not apply to your points.")  # fmt: skip
    upload = st.file_uploader("CSV with two numeric columns", type=["csv", "txt"], key="d2_upload")
    text = upload.getvalue().decode("utf-8", errors="replace") if upload is not None else st.text_area(
        "Points", "\n".join(f"{x:.3f}, {y:.3f}" for x, y in TOYS["moons"].sample(300, 7)), height=150, key="d2_text"
    )
    try:
        points = density.parse_values(text, columns=2)
    except density.DataInputError as err:
        st.error(f"Those points cannot be used: {err}.", icon=":material/error:")
        st.stop()
    train, held = density.split(points)
    k = int(st.sidebar.slider("Mixture components (EM)", 1, 20, 8, key="d2_k"))
    with ui.timed("Fitting EM and a KDE to your points..."):
        gmm = density.fit_gmm(train, k)
        bw = density.scott_bandwidth(train)
        extent = float(np.abs(points).max() * 1.1)
        fits = {
            f"Gaussian mixture, EM (K={k})": gmm.log_density,
            "Kernel density (KDE)": lambda x: density.kde_log_density(train, x, bw),
        }
        cols = st.columns(len(fits))
        rows = []
        for col, (name, fn) in zip(cols, fits.items()):
            ticks, values = density.grid_log_density(fn, 120, extent)
            with col:
                fig = plots.density_map(ticks, values, name, points=train)
                st.pyplot(fig, width="content")
                plt.close(fig)
            rows.append({"Model": name, "Held-out log-likelihood (nats per point)": float(np.mean(fn(held)))})
    st.dataframe(pd.DataFrame(rows), hide_index=True)
    st.caption(f"Held out: a fixed 20% of your {len(points)} points. EM rose from {gmm.history[0]:.3f} to "
               f"{gmm.history[-1]:.3f} nats per point.")  # fmt: skip
    st.stop()

toy = TOYS[source]
models, problems = shipped(source, folder)
for p in problems:
    st.sidebar.warning(f"Unavailable: {p}", icon=":material/warning:")
if not models:
    st.info("No density models are shipped for this set. Run `python -m training density`.")
    st.stop()
data_points = toy.sample(1500, 3)
card = density.load_density_card(folder) or {}
entry = card.get("datasets_2d", {}).get(source, {})

kinds = [k for k in TAXONOMY if k in models]
columns = st.columns(3)
with ui.timed("Computing the density maps..."):
    ticks_true, true_values = density.grid_log_density(toy.log_density, CELLS)
    with columns[0]:
        fig = plots.density_map(ticks_true, true_values, "True density", points=data_points)
        st.pyplot(fig, width="content")
        plt.close(fig)
    for i, kind in enumerate(kinds, start=1):
        ticks, values, samples = heat(source, kind, folder)
        title, how = TAXONOMY[kind]
        with columns[i % 3]:
            fig = plots.density_map(ticks, values, f"{title}\n{how}", points=None, samples=samples if show_samples else None)
            st.pyplot(fig, width="content")
            plt.close(fig)
st.caption(
    "Maps show log p(x) in nats, clipped 10 nats below each map's maximum, over [-4, 4]² "
    f"({CELLS} x {CELLS} cells; the VAE's {CELLS // 2} x {CELLS // 2}); white dots: data; red dots: the model's own samples."
)

true_ll = entry.get("true_held_out_ll")
rows = [{"Model": "True density (ceiling)", "Density": "exact", "Held-out log-likelihood (nats per point)": true_ll, "Gap to the truth (nats)": 0.0}]
for kind in kinds:
    title, how = TAXONOMY[kind]
    ll = entry.get("models", {}).get(kind, {}).get("held_out_ll")
    rows.append({
        "Model": title, "Density": how.split(":")[0].split(" (")[0],
        "Held-out log-likelihood (nats per point)": ll,
        "Gap to the truth (nats)": None if ll is None or true_ll is None else true_ll - ll,
    })  # fmt: skip
st.dataframe(pd.DataFrame(rows), hide_index=True, column_config={
    "Held-out log-likelihood (nats per point)": st.column_config.NumberColumn(format="%.3f"),
    "Gap to the truth (nats)": st.column_config.NumberColumn(format="%.3f"),
})  # fmt: skip
st.caption(
    f"On {card.get('held_out', 'held-out points')}, computed at training time (the VAE's with k = 500 importance "
    "samples, a lower bound). The GAN has no row: it defines no density, only a sampler. The taxonomy in one table."
)
