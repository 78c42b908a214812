"""Density in 1-D: estimate p(x) from samples with a histogram, a kernel estimate, EM, and a trained flow."""

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st

from app import display, models, widgets
from inference import density
from inference.toy import TOYS_1D

display.header(
    "Density estimation in 1-D",
    "Density estimation is learning p(x) from samples alone. Each estimator below makes a different bet about "
    "its shape; the held-out log-likelihood says which bet paid off on points it never saw.",
)


@st.cache_data(max_entries=32, show_spinner=False)
def kde(train: np.ndarray, x: np.ndarray, bandwidth: float) -> np.ndarray:
    """The KDE at x, kept per data, points and bandwidth: the curve and the held-out score are a Gaussian per training
    value at every point (0.2 s each on 2 cores), and the other controls (EM's K, the bins) do not change them."""
    return density.kde_log_density(train, x, bandwidth)


card, card_problem = models.density_card()
if card_problem:
    st.sidebar.warning(f"The trained flows are unavailable: {card_problem}", icon=":material/warning:")
sources = list(TOYS_1D) + ["yours"]
source = st.sidebar.selectbox(
    "Data", sources, format_func=lambda s: "Your values" if s == "yours" else TOYS_1D[s].title, key="d1_data"
)
bins = int(st.sidebar.slider("Histogram bins", 5, 100, 30, key="d1_bins"))
components = int(st.sidebar.slider("Mixture components (EM)", 1, 10, 2, key="d1_k"))

truth = None
if source == "yours":
    st.markdown("**Your values**: type numbers (one per line, or comma-separated), or upload a CSV and pick a column.")
    upload = st.file_uploader("CSV file", type=["csv", "txt"], key="d1_upload")
    text = ""
    if upload is not None:
        try:
            frame = pd.read_csv(upload)
        except (ValueError, UnicodeDecodeError, pd.errors.ParserError) as err:
            st.error(f"That file cannot be read as CSV: {err}", icon=":material/error:")
            st.stop()
        numeric = [c for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c])]
        if not numeric:
            st.error("That CSV has no numeric column.", icon=":material/error:")
            st.stop()
        column = st.selectbox("Column", numeric, key="d1_column")
        text = "\n".join(str(v) for v in frame[column].tolist())
    else:
        text = st.text_area("Values", "1.2, 0.8, 2.5, 3.1, 2.9, 0.4, 1.9, 2.2, 3.3, 1.1, 0.9, 2.7", key="d1_text")
    try:
        values = density.parse_values(text, columns=1)
    except density.DataInputError as err:
        st.error(f"Those values cannot be used: {err}.", icon=":material/error:")
        st.stop()
    train, held = density.split(values)
else:
    truth = TOYS_1D[source]
    entry = card.datasets_1d.get(source) if card else None
    n_train = entry.n_train if entry else 1000
    train = truth.sample(n_train, 0).astype(np.float64)
    held = truth.sample(10_000, 12345).astype(np.float64)

default_bw = density.scott_bandwidth(train)
# Bounds on the slider's own step grid (see widgets.step_grid): an unrounded minimum is never sent back exactly.
bw_min, bw_max, bw_default, bw_step, bw_format = widgets.step_grid(default_bw / 10, default_bw * 5, default_bw)
bandwidth = float(
    st.sidebar.slider(
        "KDE bandwidth (x units)",
        bw_min,
        bw_max,
        bw_default,
        step=bw_step,
        format=bw_format,
        key=f"d1_bw_{source}",
        help="The width of the Gaussian bump put on every sample. Starts at Scott's rule, sd n^(-1/5), rounded to the slider's step.",
    )
)

lo, hi = np.percentile(np.concatenate([train, held]), [0.5, 99.5])
pad = 0.15 * (hi - lo)
xs = np.linspace(lo - pad, hi + pad, 600)
with display.timed("Fitting..."):
    gmm = density.fit_gmm(train, components)
    estimates = {
        "Histogram": (lambda x: density.histogram_log_density(train, x, bins)),
        "Kernel density (KDE)": (lambda x: kde(train, x, bandwidth)),
        f"Gaussian mixture, EM (K={components})": gmm.log_density,
    }
    flow, flow_problem = models.flow_1d(source) if source != "yours" else (None, None)
    if flow is not None:
        estimates["Spline flow (trained, exported)"] = lambda x: flow.log_prob(np.asarray(x, np.float32)[:, None])
    elif flow_problem:
        st.sidebar.warning(f"The trained flow is unavailable: {flow_problem}", icon=":material/warning:")

# The histogram estimate is the gray bars themselves; every other estimate is a curve.
curves = [
    {"x": float(x), "density": float(np.exp(v)), "curve": name}
    for name, fn in estimates.items()
    if name != "Histogram"
    for x, v in zip(xs, fn(xs), strict=True)
]
if truth is not None:
    curves += [
        {"x": float(x), "density": float(np.exp(v)), "curve": "True density"}
        for x, v in zip(xs, truth.log_density(xs), strict=True)
    ]
hist, edges = np.histogram(train, bins=bins, density=True)
bars = pd.DataFrame({"left": edges[:-1], "right": edges[1:], "density": hist})
order = ["True density", *[n for n in estimates if n != "Histogram"]]
chart = alt.Chart(bars).mark_rect(opacity=0.25, color="#9aa4b8").encode(
    x=alt.X("left:Q", title="x"), x2="right:Q", y=alt.Y("density:Q", title="density (per unit of x)")
) + alt.Chart(pd.DataFrame(curves)).mark_line(strokeWidth=2).encode(
    x="x:Q", y="density:Q", color=alt.Color("curve:N", title="", sort=order, legend=alt.Legend(labelLimit=0)),
    strokeDash=alt.condition(alt.datum.curve == "True density", alt.value([6, 3]), alt.value([1, 0])),
)  # fmt: skip
st.altair_chart(chart.properties(height=380), width="stretch")
st.caption(
    f"Gray bars: the {len(train):,} training values as a histogram ({bins} bins), which is also the histogram estimate. "
    + ("Dashed: the true density. " if truth is not None else "")
    + "EM's log-likelihood rose every iteration, as EM guarantees: "
    f"{gmm.history[0]:.3f} to {gmm.history[-1]:.3f} nats per point in {len(gmm.history) - 1} iterations."
)

rows = []
if truth is not None:
    rows.append(
        {
            "Estimate": "True density (ceiling)",
            "Held-out log-likelihood (nats per point)": float(truth.log_density(held).mean()),
        }
    )
for name, fn in estimates.items():
    rows.append({"Estimate": name, "Held-out log-likelihood (nats per point)": float(np.mean(fn(held)))})
st.dataframe(pd.DataFrame(rows), hide_index=True, column_config={
    "Held-out log-likelihood (nats per point)": st.column_config.NumberColumn(format="%.3f"),
})  # fmt: skip
held_note = (
    f"{len(held):,} fresh points from the same distribution"
    if truth is not None
    else f"a fixed {len(held)} of your values (20%), kept out of every fit"
)
st.caption(
    f"Held out: {held_note}. Higher is better. A histogram pays a floor of 1e-6 where a held-out point lands in an "
    "empty bin. The flow is trained offline on the same 1,000 points (it is not refitted to your values)."
)
