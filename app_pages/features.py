"""Features: what an encoder learned without labels is worth when labels are few."""

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st

from app import display, models, widgets
from inference.features import classify

display.header(
    "Learned features",
    "An encoder trained without any labels (to reconstruct, or to maximize the ELBO) has already learned what varies "
    "between digits. With few labels, a classifier built on it can beat one that must learn from the pixels alone.",
)


card, nets, problems = models.features_study()
for problem in problems:
    st.sidebar.warning(problem, icon=":material/warning:")
if card is None:
    st.info("The study has not been run. Run `python -m training features`.")
    st.stop()

methods = card.methods
table = pd.DataFrame(card.table)
table["method name"] = table["method"].map(methods)
table["accuracy (%)"] = 100 * table["mean"]
table["low"] = 100 * (table["mean"] - table["std"])
table["high"] = 100 * (table["mean"] + table["std"])
# Six lines that must be told apart in colour and in dash, labelled where they end (no legend to look up).
STYLE = {  # method: (colour, dash); the two fine-tuned encoders solid, the two frozen codes dashed
    "pixels": ("#BAB0AC", [2, 3]),
    "scratch": ("#E15759", [8, 3, 2, 3]),
    "ae_probe": ("#F28E2B", [7, 4]),
    "vae_probe": ("#4E79A7", [7, 4]),
    "ae_finetune": ("#EDC948", [1, 0]),
    "vae_finetune": ("#76B7B2", [1, 0]),
}
SPARE = ["#59A14F", "#B07AA1", "#FF9DA7", "#9C755F"]
names = list(methods.values())
style = {m: STYLE.get(m, (SPARE[i % len(SPARE)], [1, 0])) for i, m in enumerate(methods)}
color = alt.Color(
    "method name:N", sort=names, legend=None,
    scale=alt.Scale(domain=names, range=[style[m][0] for m in methods]),
)  # fmt: skip
dash = alt.StrokeDash(
    "method name:N", sort=names, legend=None, scale=alt.Scale(domain=names, range=[style[m][1] for m in methods])
)
HEIGHT = 380
low, high = float(table["low"].min()), float(table["high"].max())
y_scale = alt.Scale(domain=[np.floor(low / 5) * 5, np.ceil(high / 5) * 5])
x = alt.X(
    "labels:Q", title="labelled training images (log scale)",
    scale=alt.Scale(type="log", domain=[int(table["labels"].min()), int(table["labels"].max())], nice=False),
)  # fmt: skip
y = alt.Y("accuracy (%):Q", title="test accuracy (%)", scale=y_scale)
lines = alt.Chart(table).mark_line(point=True, strokeWidth=2.5).encode(
    x=x, y=y, color=color, strokeDash=dash,
    tooltip=["method name", "labels", alt.Tooltip("accuracy (%):Q", format=".1f"), "runs"],
)  # fmt: skip
bands = alt.Chart(table).mark_area(opacity=0.12).encode(x=x, y=alt.Y("low:Q", scale=y_scale), y2="high:Q", color=color)
# Labels at the right end of each line, nudged apart where two lines end close together (at least one
# line of text, in accuracy units, between neighbours).
ends = table.loc[table.groupby("method")["labels"].idxmax()].sort_values("accuracy (%)").reset_index(drop=True)
gap = (y_scale.domain[1] - y_scale.domain[0]) * 16 / HEIGHT
placed = list(ends["accuracy (%)"])
for _ in range(50):
    for i in range(1, len(placed)):
        if placed[i] - placed[i - 1] < gap:
            middle = (placed[i] + placed[i - 1]) / 2
            placed[i - 1], placed[i] = middle - gap / 2, middle + gap / 2
ends["label y"] = placed
ends["label"] = [f"{n} ({a:.1f}%)" for n, a in zip(ends["method name"], ends["accuracy (%)"], strict=True)]
labels = (
    alt.Chart(ends)
    .mark_text(align="left", dx=10, fontSize=12)
    .encode(x=x, y=alt.Y("label y:Q", scale=y_scale), text="label:N", color=color)
)
st.altair_chart(
    (bands + lines + labels).properties(height=HEIGHT, padding={"right": 280, "left": 5, "top": 10, "bottom": 5}),
    width="stretch",
)

head = card.headline
at = {row["method"]: row for row in card.table if row["labels"] == head["labels"]}
gain = head["gain_points"]
verdict = (
    f"With {head['labels']} labels the pretrained method that did best on the validation split, "
    f"{methods[head['best_pretrained']]}, reaches "
    f"{100 * head['best_pretrained_accuracy']:.1f}% against {100 * head['pixels']:.1f}% from raw pixels: "
    f"{gain:+.1f} percentage points."
)
every = max(row["labels"] for row in card.table)
full = {row["method"]: row["mean"] for row in card.table if row["labels"] == every}
st.caption(
    "Lines: mean test accuracy over draws of the labelled subset; bands: one standard deviation. "
    + verdict
    + f" The gap closes as labels grow: with all {every:,}, raw pixels reach {100 * full.get('pixels', float('nan')):.1f}% "
    f"and the encoder trained from scratch {100 * full.get('scratch', float('nan')):.1f}%, so pretraining helps where "
    "labels are scarce, and matters little once they are not. A frozen probe is limited by what the code kept: the "
    "16 numbers were chosen to rebuild pixels, not to separate classes."
)
if gain < 5.0:
    spread = 100 * max(at[head["best_pretrained"]]["std"], at["pixels"]["std"])
    st.info(
        f"**Why the gain is small here ({gain:.1f} points at {head['labels']} labels).** Raw pixels are a strong "
        f"baseline on MNIST: a linear classifier on them already reaches {100 * head['pixels']:.1f}%. The encoders "
        f"saw only the {card.data['train_size']:,} unlabelled training digits, so they learned little the pixels do not already show "
        "linearly, and fine-tuning a whole encoder on 100 images overfits. The gain is also about the size of the "
        f"spread between draws of the labelled subset (one standard deviation up to {spread:.1f} points). On full "
        "MNIST (60,000 unlabelled images) or with a code trained for it, pretraining is known to help more.",
        icon=":material/info:",
    )

with st.expander("The table"):
    show = table.pivot(index="method name", columns="labels", values="accuracy (%)").reindex(list(methods.values()))
    st.dataframe(show.style.format("{:.1f}"), width="stretch")
    st.caption(
        f"Test accuracy (%) on the 500 fixed-binary test digits; {card.protocol['draws']} draws of the labelled "
        f"subset per count (3 initialisations with all labels). {card.protocol['fine_tuning']}."
    )

st.subheader(f"Classify a digit with each {head['labels']}-label classifier")
left, right = st.columns([1, 2], gap="large")
with left:
    chosen = widgets.digit_input()
if chosen is None or not nets:
    st.stop()
with left:
    display.show_digit(
        chosen.binary, caption=f"{chosen.description}, binarized as the classifiers saw their data", scale=6
    )
with right:
    rows = []
    for method, net in nets.items():
        p = classify(net, chosen.binary)
        rows += [{"method": methods[method], "digit": str(d), "probability": float(p[d])} for d in range(10)]
    probs = pd.DataFrame(rows)
    st.altair_chart(
        alt.Chart(probs)
        .mark_bar()
        .encode(
            x=alt.X("digit:N", title="digit"),
            y=alt.Y("probability:Q", title="p(digit)", scale=alt.Scale(domain=[0, 1])),
            color=alt.value("#F2A541"),
            facet=alt.Facet(
                "method:N",
                columns=2,
                title=None,
                sort=list(methods.values()),
                header=alt.Header(labelFontSize=11, labelLimit=0),  # names whole, within a phone's width
            ),
        )
        .properties(width=120, height=100),  # two a row: fits the column at 1280 px and a phone's width
    )
    best = probs.loc[probs.groupby("method")["probability"].idxmax()]
    summary = ", ".join(f"{r.method}: {r.digit}" for r in best.itertuples())
    st.caption(f"Each classifier's probabilities over the 10 digits. Top guesses: {summary}."
               + (f" The true label is {chosen.label}." if chosen.label is not None else ""))  # fmt: skip
