"""Latent structure: what the encoders' codes show about the digits, without any labels."""

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st

from app import display, models, widgets
from inference.cluster import adjusted_rand_index, kmeans, pca

display.header(
    "Latent structure",
    "Clustering and dimensionality reduction are unsupervised learning too. PCA of the codes shows how the digits "
    "lie in them; K-means asks whether the classes emerge as clusters, scored against the labels it never saw.",
)


@st.cache_data(show_spinner="Encoding the test digits, running PCA and K-means...", max_entries=16)
def representations(folder: str, seed: int) -> dict:
    digits = widgets.test_digits()
    out = {"Raw pixels (784-d)": digits.gray(np.arange(len(digits))).reshape(len(digits), -1)}
    for entry in models.available(lambda c: c.has_encoder and c.latent_dim > 2):
        model = models.cached_model(entry.name, folder)
        # Named by the model's family, not its title ("Autoencoder, 16-d code" + " codes" read "code codes").
        kind = "posterior means" if model.density == "bound" else "codes"
        name = f"{entry.title.split(',')[0]} {kind} ({model.latent_dim}-d)"
        out[name] = models.test_codes(entry.name)  # stored at export; a VAE's are its posterior means
    result = {}
    for name, x in out.items():
        scores, explained = pca(x, 2)
        labels, _ = kmeans(x, 10, seed=seed)
        result[name] = {"pca": scores, "explained": explained, "ari": adjusted_rand_index(labels, digits.labels)}
    return result


seed = widgets.seed_input(label="K-means seed")
reps = representations(models.folder(), seed)
labels = widgets.test_digits().labels
DIGITS = [str(d) for d in range(10)]
# Tableau's 10 colours: a palette made for 10 categories, told apart on the dark background.
digit_color = alt.Color(
    "digit:N", title="Digit", sort=DIGITS, scale=alt.Scale(domain=DIGITS, scheme="tableau10"),
    legend=alt.Legend(orient="bottom", direction="horizontal", columns=5, symbolSize=120, labelFontSize=13),
)  # fmt: skip
items = list(reps.items())
for start in range(0, len(items), 2):  # two large plots a row
    for col, (name, r) in zip(st.columns(2, gap="large"), items[start : start + 2], strict=False):
        frame = pd.DataFrame({"PC 1": r["pca"][:, 0], "PC 2": r["pca"][:, 1], "digit": labels.astype(str)})
        with col:
            st.altair_chart(
                alt.Chart(frame)
                .mark_circle(size=34, opacity=0.85)
                .encode(x="PC 1:Q", y="PC 2:Q", color=digit_color, tooltip=["digit"])
                .properties(title=alt.TitleParams(name, fontSize=14, anchor="start"), height=500),
                width="stretch",
            )
            st.caption(
                f"The first two components keep {100 * r['explained'].sum():.0f}% of the variance "
                "(units: those of the representation)."
            )

table = pd.DataFrame(
    [{"Representation": n, "K-means (K = 10) agreement with the labels (ARI)": r["ari"]} for n, r in reps.items()]
)
st.dataframe(table, hide_index=True, column_config={
    "K-means (K = 10) agreement with the labels (ARI)": st.column_config.NumberColumn(format="%.3f"),
})  # fmt: skip
best = max(reps, key=lambda n: reps[n]["ari"])
st.caption(
    "Adjusted Rand index: 0 is chance, 1 is the labels exactly. On the 500 test digits; K-means with 10 k-means++ "
    f"starts (seed {seed}). Here the best representation for clustering is {best}. The learned codes are 16 numbers "
    "against 784 pixels, yet they keep (or sharpen) the class structure: what a generative model must encode to "
    "rebuild a digit includes which digit it is."
)
