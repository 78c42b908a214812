"""Your 2-D points: a Gaussian mixture (EM) and a kernel density estimate fitted live to points you give."""

import numpy as np
import pandas as pd
import streamlit as st

from app import display, raster
from inference import density, density_maps
from inference.toy import TOYS

display.header(
    "Your 2-D points",
    "Density estimation on data you bring: a mixture fitted by EM (which raises the likelihood at every step) and a "
    "kernel estimate, both scored on a fifth of your points that neither saw.",
)

st.markdown("**Your points**: two numbers per line (x₁, x₂), typed or uploaded as CSV. The trained models of the "
            "Density in 2-D page learned its toy sets and do not apply to your points.")  # fmt: skip
upload = st.file_uploader("CSV with two numeric columns", type=["csv", "txt"], key="d2_upload")
text = (
    upload.getvalue().decode("utf-8", errors="replace")
    if upload is not None
    else st.text_area(
        "Points", "\n".join(f"{x:.3f}, {y:.3f}" for x, y in TOYS["moons"].sample(300, 7)), height=150, key="d2_text"
    )
)
try:
    points = density.parse_values(text, columns=2)
except density.DataInputError as err:
    display.error(f"Those points cannot be used: {err}.")
    st.stop()
train, held = density.split(points)
k = int(st.sidebar.slider("Mixture components (EM)", 1, 20, 8, key="d2_k"))
with display.timed("Fitting EM and a KDE to your points..."):
    gmm = density.fit_gmm(train, k)
    bw = density.scott_bandwidth(train)
    extent = float(np.abs(points).max() * 1.1)
    fits = {
        f"Gaussian mixture, EM (K={k})": gmm.log_density,
        "Kernel density (KDE)": lambda x: density.kde_log_density(train, x, bw),
    }
    cols = st.columns(len(fits))
    rows = []
    for col, (name, fn) in zip(cols, fits.items(), strict=True):
        _, values = density.grid_log_density(fn, 120, extent)
        raster.show(raster.density_map(density_maps.leveled(values, extent=extent), name, points=train), where=col)
        rows.append({"Model": name, "Held-out log-likelihood (nats per point)": float(np.mean(fn(held)))})
st.dataframe(pd.DataFrame(rows), hide_index=True, column_config={
    "Held-out log-likelihood (nats per point)": st.column_config.NumberColumn(format="%.3f"),
})  # fmt: skip
st.caption(f"Held out: a fixed 20% of your {len(points)} points. EM rose from {gmm.history[0]:.3f} to "
           f"{gmm.history[-1]:.3f} nats per point.")  # fmt: skip
