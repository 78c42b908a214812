"""GAN lab: watch a generator and a discriminator train on 2-D points (after poloclub's GAN Lab)."""

import time

import altair as alt
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


SETTING_NOTES = {
    "stable": "D steps 3x per G step with a higher learning rate and an R1 gradient penalty",
    "collapse": "D updated slowly: G piles its mass where D is wrong and hops between modes",
}
FRAME_PX = 460  # each snapshot's width on the page (two side by side)
FPS = 12  # snapshots per second when playing


@st.cache_resource(show_spinner=False, max_entries=8)
def snapshots(folder: str, dataset: str, setting: str, show_mesh: bool, show_heat: bool) -> plots.GanLabFrames:
    """The snapshots of one run as pictures, each drawn the first time any session shows it (~5 ms), and kept for
    every session of this server."""
    run = next(r for r in models.lab()[0] if r.dataset == dataset and r.setting == setting)
    titles = [f"{setting}: step {int(s):,}" for s in run.steps]
    return plots.GanLabFrames(run.frame, titles, FRAME_PX, show_mesh=show_mesh, show_heat=show_heat)


runs, problems = models.lab()
for problem in problems:
    st.sidebar.warning(problem, icon=":material/warning:")
display.require(runs, "GAN lab snapshot", "python -m training ganlab")

datasets = list(dict.fromkeys(r.dataset for r in runs))
dataset = st.sidebar.selectbox(
    "Data", datasets, format_func=lambda d: TOYS[d].title if d in TOYS else d, key="lab_data"
)
chosen = [r for r in runs if r.dataset == dataset]
steps = [int(t) for t in chosen[0].steps]
show_heat = st.sidebar.toggle("Discriminator heat map", value=True, key="lab_heat")
show_mesh = st.sidebar.toggle("Generator's noise grid", value=True, key="lab_mesh")

# The slider speaks in training steps, as the plots do; "lab_frame" holds the step (a link or an old
# session may hold anything: the nearest snapshot's step is used).
if "lab_goto" in st.session_state:  # where the last Play got to (or was stopped)
    st.session_state["lab_frame"] = st.session_state.pop("lab_goto")
wanted = widgets.clamp_int(st.session_state.get("lab_frame"), 0, steps[-1], steps[-1])
st.session_state["lab_frame"] = steps[min(range(len(steps)), key=lambda i: abs(steps[i] - wanted))]
interval = steps[1] - steps[0] if len(steps) > 1 else 1
slider = {
    "label": "Training step",
    "min_value": 0,
    "max_value": max(steps[-1], 1),
    "step": interval,
    "help": f"{len(steps)} snapshots, one every {interval:,} training steps; slide to scrub, or play from here.",
}
pictures = [snapshots(models.folder(), dataset, run.setting, show_mesh, show_heat) for run in chosen]


def snapshot_at(step: int) -> int:
    """The index of the snapshot nearest a training step."""
    return min(range(len(steps)), key=lambda i: abs(steps[i] - step))


def start_playing() -> None:
    st.session_state["lab_play_pressed"] = True
    if st.session_state["lab_frame"] == steps[-1]:  # at the end: play from the start
        st.session_state["lab_frame"] = steps[0]


# Play: this run shows every snapshot in turn at FPS (each drawn in ~5 ms the first time: the pace holds).
# Streamlit keeps a widget from the last run on screen, faded, until this run draws it again: so the slider
# and the Play button are drawn first (disabled), then a copy of the slider that moves replaces the slider
# in place. When the run ends the step reached is handed to the next run (a widget's value cannot be set
# once it is drawn), which reruns at once.
playing = st.session_state.pop("lab_play_pressed", False)
slider_slot = st.empty()
step = slider_slot.slider(**slider, key="lab_frame", disabled=playing)
buttons = st.container(horizontal=True)  # Stop beside Play, so nothing below moves when it appears
buttons.button("Play from here", icon=":material/play_arrow:", key="lab_play", on_click=start_playing, disabled=playing)
stop_slot = buttons.empty()
holders = [col.empty() for col in st.columns(len(chosen))]


def show(i: int) -> None:
    for frames, holder in zip(pictures, holders, strict=True):
        holder.image(frames[i], width=FRAME_PX)


if playing:
    stop_slot.button("Stop", icon=":material/stop:", key="lab_stop")  # any click ends this run where it is
    first, start = snapshot_at(step), time.perf_counter()
    for k, i in enumerate(range(first, len(steps))):
        st.session_state["lab_goto"] = steps[i]
        show(i)
        slider_slot.slider(**slider, value=steps[i], disabled=True)
        time.sleep(max(0.0, start + (k + 1) / FPS - time.perf_counter()))  # a steady pace, not as fast as it can
    st.rerun()
show(snapshot_at(step))
columns = st.columns(len(chosen))

for run, col in zip(chosen, columns, strict=True):
    with col:
        note = SETTING_NOTES.get(run.setting, "")
        s = run.card
        line = f"**{run.setting}**: {note}."
        if s.modes_covered is not None:
            line += f" At the end, {s.modes_covered} of {s.modes} modes get at least 2% of the samples."
        st.markdown(line)

st.subheader("The two losses")
EQUILIBRIUM = {"D": 2 * np.log(2), "G": np.log(2)}  # D = 1/2 everywhere: D's loss 2 log 2, G's (non-saturating) log 2
PLAYERS = {"D": "D, discriminator", "G": "G, generator"}
SMOOTH = 25  # recorded losses averaged over this many neighbours: one batch's loss is noisy
curves = []
for run in chosen:
    for player in ("D", "G"):
        values = np.asarray(run.arrays[f"{player.lower()}_loss"], np.float64)
        curves.append(
            pd.DataFrame({
                "setting": run.setting, "player": PLAYERS[player],
                "step": np.linspace(0, steps[-1], len(values)), "loss (nats)": values,
                "smoothed": pd.Series(values).rolling(SMOOTH, center=True, min_periods=1).mean(),
            })
        )  # fmt: skip
losses = pd.concat(curves, ignore_index=True)
top = max(float(np.ceil(2 * losses["loss (nats)"].quantile(0.995)) / 2), 2.0)  # room above 2 log 2
color = alt.Color(
    "player:N", title=None, scale=alt.Scale(domain=list(PLAYERS.values()), range=["#F2A541", "#5DADE2"]),
    legend=alt.Legend(orient="bottom", labelLimit=0, symbolType="stroke", symbolOpacity=1, symbolStrokeWidth=3),
)  # fmt: skip
x = alt.X("step:Q", title="training step", scale=alt.Scale(domain=[0, steps[-1]]))
y = alt.Y("loss (nats):Q", title="loss (nats per example)", scale=alt.Scale(domain=[0, top], clamp=True))
rules = pd.DataFrame({"player": [PLAYERS[p] for p in EQUILIBRIUM], "y": list(EQUILIBRIUM.values()),
                      "label": ["2 log 2 = 1.39", "log 2 = 0.69"]})  # fmt: skip
for run, col in zip(chosen, st.columns(len(chosen)), strict=True):
    data = losses[losses["setting"] == run.setting]
    raw = alt.Chart(data).mark_line(strokeWidth=0.8, opacity=0.3).encode(x=x, y=y, color=color)
    smooth = alt.Chart(data).mark_line(strokeWidth=2.2).encode(
        x=x, y=alt.Y("smoothed:Q", scale=alt.Scale(domain=[0, top], clamp=True)), color=color,
        tooltip=["player", alt.Tooltip("step:Q", format=",.0f"), alt.Tooltip("smoothed:Q", format=".3f")],
    )  # fmt: skip
    rule = alt.Chart(rules).mark_rule(strokeDash=[5, 4]).encode(y="y:Q", color=color)
    label = (
        alt.Chart(rules)
        .mark_text(align="right", dx=-4, dy=-7, fontSize=12)
        .encode(y="y:Q", x=alt.datum(steps[-1]), text="label:N", color=color)
    )
    col.altair_chart((raw + smooth + rule + label).properties(title=run.setting, height=360), width="stretch")
st.caption(
    f"Faint: the loss of each recorded batch; solid: averaged over {SMOOTH} neighbouring records. D's loss is "
    "-log D(x) - log(1 - D(G(z))) per pair, G's the non-saturating -log D(G(z)); at the game's equilibrium D can "
    "only guess, D = 1/2 everywhere, and the losses are 2 log 2 = 1.39 and log 2 = 0.69 nats (dashed). Falling "
    "losses are not a sign of progress here: the two players pull against each other."
)
