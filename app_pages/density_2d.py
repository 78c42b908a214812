"""Density in 2-D: every family's estimate of the same toy distribution, side by side."""

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st

from app import display, models, raster
from inference.density_maps import CELLS, FLOOR, TRUE
from inference.toy import TOYS

display.header(
    "Density estimation in 2-D",
    "The same data, every family of the taxonomy: explicit exact densities (mixture, flow, autoregressive), an "
    "explicit approximate one (the VAE, by importance sampling), and models known by their samples (the GAN, and a "
    "diffusion model, which learns the score of noisier and noisier copies of the data).",
)

TAXONOMY = {
    "mixture": ("Gaussian mixture (EM)", "exact"),
    "flow": ("Spline flow", "exact"),
    "autoregressive": ("Autoregressive p(x₁) p(x₂ | x₁)", "exact"),
    "vae": ("VAE", "estimate (importance sampling, k = 16 on the map)"),
    "gan": ("GAN", "none: KDE of 2,000 of its samples"),
    "diffusion": ("Diffusion", "none: KDE of 2,000 of its samples"),
}


@st.cache_data(show_spinner="Running the reverse process...", max_entries=16)
def trajectories(dataset: str, folder: str) -> np.ndarray:
    """12 points from noise to data, every step of the toy diffusion model's deterministic (DDIM) reverse process."""
    return models.toy_model(dataset, "diffusion").trajectories(12, seed=1, method="ddim")


source = st.sidebar.selectbox("Data", list(TOYS), format_func=lambda s: TOYS[s].title, key="d2_data")
show_samples = st.sidebar.toggle("Overlay model samples", value=True, key="d2_samples")

toy = TOYS[source]
trained, problems = models.toy_networks(source)  # checked, not loaded: the maps were stored at export
for p in problems:
    st.sidebar.warning(f"Unavailable: {p}", icon=":material/warning:")
display.require(list(trained), "density model for this set", "python -m training density")
data_points = toy.sample(1500, 3)
card, _ = models.density_card()
entry = card.datasets_2d.get(source) if card else None

kinds = [k for k in TAXONOMY if k in trained]
columns = st.columns(3)
with display.timed("Computing the density maps..."):  # stored at export; computed here only if a model changed
    with columns[0]:
        raster.show(raster.density_map(models.density_map(source, TRUE), "True density", points=data_points))
    for i, kind in enumerate(kinds, start=1):
        title, how = TAXONOMY[kind]
        m = models.density_map(source, kind)
        with columns[i % 3]:
            raster.show(raster.density_map(m, f"{title}\n{how}", samples=m.samples if show_samples else None))
st.caption(
    f"Maps show log p(x) in nats, clipped {FLOOR:.0f} nats below each map's maximum, over [-4, 4]² "
    f"({CELLS} x {CELLS} cells; the VAE's {CELLS // 2} x {CELLS // 2}); white dots: data; red dots: the model's own samples."
)

true_ll = entry.true_held_out_ll if entry else None
rows = [
    {
        "Model": "True density (ceiling)",
        "Density": "exact",
        "Held-out log-likelihood (nats per point)": true_ll,
        "Gap to the truth (nats)": 0.0,
    }
]
for kind in kinds:
    title, how = TAXONOMY[kind]
    ll = entry.models[kind].held_out_ll if entry and kind in entry.models else None
    if ll is None:  # a sampler only (the GAN, the diffusion model): no density to score held-out points with
        continue
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
    f"On {card.held_out if card else 'held-out points'}, computed at training time (the VAE's with k = 500 importance "
    "samples, a lower bound). The GAN and the diffusion model have no row: neither gives a density these points can be "
    "scored with (the diffusion model's variational bound is not computed for points), only a sampler. The taxonomy "
    "in one table."
)

if "diffusion" in trained:
    st.subheader("Diffusion on this set: the score, and points carried from noise to data")
    diffusion = models.toy_model(source, "diffusion")
    T = int(diffusion.entry.config["timesteps"])
    level = int(
        st.slider("Noise level: step t", 1, T, T // 5, key="d2_noise", help=f"1 is almost the data, {T} is noise.")
    )
    ticks = np.linspace(-3.6, 3.6, 19, dtype=np.float32)
    grid = np.stack(np.meshgrid(ticks, ticks), -1).reshape(-1, 2)
    score = diffusion.score(grid, level - 1)
    length = np.linalg.norm(score, axis=1)
    field = pd.DataFrame(
        {
            "x": grid[:, 0],
            "y": grid[:, 1],
            # Vega's angle: degrees clockwise from up
            "angle": (90 - np.degrees(np.arctan2(score[:, 1], score[:, 0]))) % 360,
            "strength": np.minimum(length / np.percentile(length, 95), 1.0),
        }
    )
    path = trajectories(source, models.folder())
    steps, points = np.meshgrid(np.arange(path.shape[0]), np.arange(path.shape[1]), indexing="ij")
    lines = pd.DataFrame(
        {"x": path[..., 0].ravel(), "y": path[..., 1].ravel(), "point": points.ravel(), "step": steps.ravel()}
    )
    scale = alt.Scale(domain=[-4, 4])
    x = alt.X("x:Q", scale=scale, title="x₁ (data units)")
    y = alt.Y("y:Q", scale=scale, title="x₂ (data units)")
    chart = (
        alt.Chart(pd.DataFrame({"x": data_points[:600, 0], "y": data_points[:600, 1]}))
        .mark_circle(size=6, color="#9aa4b8", opacity=0.35)
        .encode(x=x, y=y)
        + alt.Chart(field)
        .mark_point(shape="arrow", filled=True, color="#3cc8a0")
        .encode(
            x=x,
            y=y,
            angle=alt.Angle("angle:Q", scale=None),
            size=alt.Size("strength:Q", scale=alt.Scale(range=[10, 220]), legend=None),
        )
        + alt.Chart(lines)
        .mark_line(strokeWidth=1.5, color="#F2A541", opacity=0.8)
        .encode(x=x, y=y, detail="point:N", order="step:Q")
        + alt.Chart(lines[lines.step == lines.step.max()]).mark_circle(size=50, color="#F2A541").encode(x=x, y=y)
    ).properties(width=320, height=320)  # square, as the maps above, and within a phone's width
    st.altair_chart(chart, width="content")
    st.caption(
        f"Green: the learned score, the direction in which the noisy data's density grows, at step {level} of {T} (arrows "
        "point uphill; their length is capped). At high noise it points at the data's centre, at low noise at the "
        f"nearest part of the shape. Orange: 12 points carried by the deterministic (DDIM) reverse process from noise "
        f"(step {T}) to samples (dots), following the score as it sharpens; grey: the data."
    )
