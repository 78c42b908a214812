"""GAN lab: watch a generator and a discriminator train on 2-D points (after poloclub's GAN Lab)."""

import time

import altair as alt
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import streamlit as st

from app import display, models, plots, widgets
from inference.toy import TOYS

display.header(
    "GAN lab",
    "The discriminator D (background: its probability that a point is real) learns to tell real points (green) from "
    "generated ones (red); the generator G moves its points, and the sheet of noise it maps (blue grid), uphill on D. "
    "There is no density anywhere: only samples and a judge.",
)


runs, problems = models.lab()
for problem in problems:
    st.sidebar.warning(problem, icon=":material/warning:")
display.require(runs, "GAN lab snapshot", "python -m training ganlab")

datasets = list(dict.fromkeys(r.dataset for r in runs))
dataset = st.sidebar.selectbox(
    "Data", datasets, format_func=lambda d: TOYS[d].title if d in TOYS else d, key="lab_data"
)
chosen = [r for r in runs if r.dataset == dataset]
n_frames = len(chosen[0].steps)
st.session_state["lab_frame"] = widgets.clamp_int(st.session_state.get("lab_frame"), 0, n_frames - 1, n_frames - 1)
show_heat = st.sidebar.toggle("Discriminator heat map", value=True, key="lab_heat")
show_mesh = st.sidebar.toggle("Generator's noise grid", value=True, key="lab_mesh")
index = st.slider(
    "Training step",
    0,
    n_frames - 1,
    key="lab_frame",
    format="%d",
    help="Snapshots taken during training; slide to scrub, or play from here.",
)
play = st.button("Play from here", icon=":material/play_arrow:", key="lab_play")

columns = st.columns(len(chosen))
placeholders = [col.empty() for col in columns]
SETTING_NOTES = {
    "stable": "D steps 3x per G step with a higher learning rate and an R1 gradient penalty",
    "collapse": "D updated slowly: G piles its mass where D is wrong and hops between modes",
}


def draw(i: int) -> None:
    for run, holder in zip(chosen, placeholders, strict=True):
        frame = run.frame(i)
        title = f"{run.setting}: step {frame['step']:,}"
        fig = plots.gan_lab_frame(frame, title, show_mesh=show_mesh, show_heat=show_heat)
        holder.pyplot(fig, width="content")
        plt.close(fig)


if play:
    for i in range(index, n_frames):
        draw(i)
        time.sleep(0.05)
    index = n_frames - 1
draw(index)

for run, col in zip(chosen, columns, strict=True):
    with col:
        note = SETTING_NOTES.get(run.setting, "")
        s = run.card
        line = f"**{run.setting}**: {note}."
        if s.modes_covered is not None:
            line += f" At the end, {s.modes_covered} of {s.modes} modes get at least 2% of the samples."
        st.markdown(line)

st.subheader("The two losses")
rows = []
for run in chosen:
    for player in ("d_loss", "g_loss"):
        values = run.arrays[player]
        step = np.linspace(0, int(run.steps[-1]), len(values))
        rows += [
            {"step": float(t), "loss (nats)": float(v), "curve": f"{run.setting}: {player[0].upper()}"}
            for t, v in zip(step, values, strict=True)
        ]
chart = (
    alt.Chart(pd.DataFrame(rows))
    .mark_line(strokeWidth=1.2)
    .encode(x=alt.X("step:Q", title="training step"), y=alt.Y("loss (nats):Q"), color=alt.Color("curve:N", title=""))
    .properties(height=220)
)
rule = alt.Chart(pd.DataFrame({"y": [2 * np.log(2)]})).mark_rule(strokeDash=[4, 4], color="gray").encode(y="y:Q")
st.altair_chart(chart + rule, width="stretch")
st.caption(
    "D's loss is -log D(x) - log(1 - D(G(z))) per pair; at the game's equilibrium D can only guess, D = 1/2 "
    "everywhere, and its loss is 2 log 2 = 1.39 nats (dashed). Falling losses are not a sign of progress here: "
    "the two players pull against each other."
)
