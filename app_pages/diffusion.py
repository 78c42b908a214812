"""Diffusion, step by step: watch noise turn into a digit, and a digit dissolve into noise."""

import time

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st

from app import display, models, widgets

display.header(
    "Diffusion, step by step",
    "A diffusion model learns to undo noise. At every step the network predicts the noise in x_t; the clean image "
    "that prediction implies (x̂_0) is where the sampler steps toward, so x̂_0 sharpens long before x_t does.",
)


def is_diffusion(c) -> bool:
    return c.family == "diffusion"


model = widgets.pick_model("Model", is_diffusion, key="diffusion_model")
seed = widgets.seed_input()
n = int(st.sidebar.slider("Samples", 1, 8, 4, key="diffusion_n"))
label = int(widgets.class_picker("Class", key="diffusion_class", allow_each=False, default=3))
guidance = float(
    st.sidebar.slider(
        "Guidance scale",
        0.0,
        6.0,
        model.guidance,
        step=0.5,
        key="diffusion_page_guidance",
        help=f"0 ignores the class, 1 is the plain conditional model; {model.guidance:g} was chosen on validation.",
    )
)
steps = int(st.sidebar.select_slider("DDIM steps", [10, 25, 50, 100], value=25, key="diffusion_page_steps"))


@st.cache_data(show_spinner=False, max_entries=32)
def reverse(name: str, folder: str, seed: int, label: int, guidance: float, steps: int, n: int):
    """Every step of one DDIM run: x_t (steps + 1 frames, the noise first) and x̂_0 (steps frames), in [0, 1]."""
    diffusion = models.cached_model(name, folder)
    xs, x0s = [], []

    def keep(i, total, x, x0):
        xs.append(np.clip((x[:, 0] + 1) / 2, 0, 1))
        x0s.append(np.clip((x0[:, 0] + 1) / 2, 0, 1))

    start = np.random.default_rng(seed).standard_normal((n, 28, 28))
    final = diffusion.sample(n, seed, labels=np.full(n, label), steps=steps, guidance=guidance, on_step=keep)
    xs = [np.clip((start + 1) / 2, 0, 1), *xs[:-1], final]
    return np.stack(xs).astype(np.float32), np.stack(x0s).astype(np.float32), diffusion.schedule(steps)


with display.timed(f"Running {steps} denoising steps..."):
    xs, x0s, ts = reverse(model.name, models.folder(), seed, label, guidance, steps, n)

st.subheader("The reverse process: from noise to a digit")
st.session_state["diffusion_frame"] = widgets.clamp_int(st.session_state.get("diffusion_frame"), 0, steps, steps)
frame = st.slider(
    "Step", 0, steps, key="diffusion_frame", help="0 is the starting noise; each step is one network call."
)
play = st.button("Play from here", icon=":material/play_arrow:", key="diffusion_play")
left, right = st.columns(2)
shown_x, shown_x0 = left.empty(), right.empty()


def draw(i: int) -> None:
    t = "pure noise, t = 1,000" if i == 0 else f"after step {i} of {steps}, t = {int(ts[i - 1]):,}"
    with shown_x.container():
        display.show_digits(xs[i], cols=n, scale=4, caption=f"x_t: {t}")
    with shown_x0.container():
        if i == 0:
            st.caption("x̂_0 appears with the first step.")
        else:
            display.show_digits(x0s[i - 1], cols=n, scale=4, caption=f"x̂_0: the clean digit step {i} aims at")


if play:
    for i in range(frame, steps + 1):
        draw(i)
        time.sleep(1 / 15)
    frame = steps
draw(frame)
st.caption(
    f"{n} samples of a {label}, seed {seed}, DDIM with {steps} of the model's {model.timesteps:,} steps, guidance "
    f"{guidance:g}. Early steps decide the digit's shape (x̂_0 is a blurry average of the digits it could become); "
    "late steps only refine strokes."
)

st.subheader("The forward process: a test digit dissolving into noise")
digits = widgets.test_digits()
index = widgets.digit_picker("diffusion_digit", default=7)
levels = [0, 50, 100, 200, 300, 500, 700, 999]
noised = np.concatenate([model.noised(digits.gray(index), t, seed=seed) for t in levels])
display.show_digits(noised, cols=len(levels), scale=4, caption="x_t at t = " + ", ".join(f"{t + 1:,}" for t in levels))
abar = model.alpha_bar
curve = pd.DataFrame(
    {
        "step t": np.arange(1, len(abar) + 1).repeat(2),
        "standard deviation (pixel units of [-1, 1])": np.stack([np.sqrt(abar), np.sqrt(1 - abar)], 1).ravel(),
        "part": ["signal: sqrt(abar_t)", "noise: sqrt(1 - abar_t)"] * len(abar),
    }
)
st.altair_chart(
    alt.Chart(curve)
    .mark_line()
    .encode(
        x=alt.X("step t:Q", title="step t"),
        y=alt.Y("standard deviation (pixel units of [-1, 1]):Q"),
        color=alt.Color("part:N", title=""),
    )
    .properties(height=220),
    width="stretch",
    height=300,  # the element holds the plot, its axis titles and the legend
)
st.caption(
    "x_t = sqrt(abar_t) x_0 + sqrt(1 - abar_t) eps, in closed form for any t: training picks a random t, noises a digit "
    "that far in one go, and asks the network for eps. By t = 1,000 almost nothing of the digit is left."
)
