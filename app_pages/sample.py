"""Sample: draw new digits from a model."""

import time

import numpy as np
import streamlit as st

from app import display, models, widgets
from inference import images as img
from inference.autoregressive import in_progress
from inference.diffusion import SAMPLERS

display.header(
    "Sample",
    "Every generative model here can make new digits; how it does so depends on its family.",
    settings="Model, number of samples, seed and temperature are in the sidebar",
)

model = widgets.pick_model("Model", models.generative, default="vae")
can = model.capabilities
held = widgets.linked_int("n", 1, 64, "a number of samples")
n = int(st.sidebar.slider("Number of samples", 1, 64, None if held else 16, key="n", bind="query-params"))
seed = widgets.seed_input()
temperature = widgets.temperature(can.family, latent=can.has_latent or can.has_prior)
labels = widgets.class_labels(n) if can.conditional else None
cols = min(n, 8)
NAIVE_MAX = 16  # the naive sampler's samples at most: 64 would take minutes


def show_result(images: np.ndarray, seconds: float, what: str) -> None:
    display.show_digits(images, cols=cols, scale=4)
    st.caption(f"{n} samples of 28 x 28 pixels from {model.title}, seed {seed}: {what} in {seconds * 1000:,.0f} ms.")
    st.download_button(
        "Download grid (PNG)",
        img.grid_png(images, cols=cols, scale=4),
        file_name=f"{model.name}_seed{seed}_n{n}_t{temperature:g}.png",
        mime="image/png",
        icon=":material/download:",
        on_click="ignore",
    )


def draw_in_steps(sample, first: str, show: bool, what: str) -> float:
    """Run ``sample(report)`` under a progress bar, then show its result (:func:`show_result`, saying ``what``) where
    its steps were shown. The sampler calls report(fraction, text, preview) as it goes, preview() giving the images
    so far, shown when ``show``; the time spent showing them is kept out of the time reported."""
    placeholder = st.empty()
    progress = st.progress(0.0, text=first)
    spent_showing = 0.0

    def report(fraction: float, text: str, preview) -> None:
        nonlocal spent_showing
        start = time.perf_counter()
        progress.progress(fraction, text=text)
        if show:
            with placeholder.container():
                display.show_digits(preview(), cols=cols, scale=4)
        spent_showing += time.perf_counter() - start

    start = time.perf_counter()
    samples = sample(report)
    seconds = time.perf_counter() - start - spent_showing
    progress.empty()
    with placeholder.container():
        show_result(samples, seconds, what)
    return seconds


if can.pixel_order == "multiscale":  # coarse to fine: the levels, and how few steps they take, are worth showing
    show_levels = st.sidebar.toggle("Show the levels", value=True, key="show_levels")
    st.caption(
        f"The chain rule in another order: a 7 x 7 image pixel by pixel (49 steps), then the 14 x 14 and 28 x 28 "
        "levels, each one's new pixels in three groups drawn all at once given everything before them: "
        f"{model.sequential_steps} sequential steps instead of 784. The price is that pixels of one group cannot "
        "depend on each other, so its likelihood is worse than a raster-order model's (Compare)."
    )
    draw_in_steps(
        lambda report: model.sample(
            n, seed, temperature=temperature,
            on_step=lambda what, done, total, preview: report(done / total, what, lambda: preview),
        ),
        "The 7 x 7 base",
        show_levels,
        f"coarse to fine, {model.sequential_steps} sequential steps",
    )  # fmt: skip
elif can.can_complete:  # pixel by pixel: the sampler, and the raster order, are worth showing
    eight_bit = can.image_kind != "binary"
    method = st.sidebar.radio(
        "Sampler",
        ["fast", "naive"],
        format_func={
            "fast": "Fast (row cache)" if eight_bit else "Fast (cached activations)",
            "naive": "Naive (whole network per pixel)",
        }.get,
        key="sampler",
        help="The naive sampler runs the full network 784 times, once per pixel. The fast one computes each "
        + (
            "row's context from the rows above once, then only the row's own stream at each pixel."
            if eight_bit
            else "layer at each position once, from caches of earlier positions (or the carried LSTM state)."
        ),
    )
    show_order = st.sidebar.toggle("Show the raster order", value=True, key="show_order")
    st.caption(
        "The chain rule, p(x) = p(x_1) p(x_2 | x_1) ... p(x_784 | x_1..x_783): one pixel at a time, left to right, "
        "top to bottom, each drawn from "
        + (
            "a distribution over its 256 grey levels that the network computes from the pixels so far (the One pixel "
            "page shows it)."
            if eight_bit
            else "a Bernoulli whose probability the network computes from the pixels so far."
        )
    )
    if method == "naive":
        # 784 passes of the whole network: say how long before it starts, from one pass measured now, and run it
        # only when asked. Any change of setting reruns the page, which stops it.
        if n > NAIVE_MAX:
            st.info(f"The naive sampler draws the first {NAIVE_MAX} of the {n} samples.", icon=":material/timer:")
            n, labels, cols = NAIVE_MAX, None if labels is None else labels[:NAIVE_MAX], min(NAIVE_MAX, 8)
        one_pass = widgets.timed_call(lambda: model.outputs(np.zeros((n, 28, 28), np.float32), labels))
        estimate = 784 * one_pass
        if not st.button(
            f"Draw {n} samples the naive way (about {estimate:.0f} s)", key="naive_go", icon=":material/play_arrow:"
        ):
            st.info(
                f"One pass of the whole network over {n} images takes {one_pass * 1000:.0f} ms here, and the naive "
                f"sampler needs 784 of them: about {estimate:.0f} s. Change any setting to stop it once started.",
                icon=":material/timer:",
            )
            st.stop()
    seconds = draw_in_steps(
        lambda report: model.sample(
            n, seed, temperature=temperature, labels=labels, method=method,
            on_row=lambda row, images: report((row + 1) / 28, f"Row {row + 1} of 28", lambda: in_progress(images, row)),
        ),
        "Row 0 of 28",
        show_order,
        f"{method} sampler, 784 steps",
    )  # fmt: skip
    times = st.session_state.setdefault("sampler_seconds", {})
    times[(model.name, n, method)] = seconds
    other = "naive" if method == "fast" else "fast"
    if (model.name, n, other) in times:
        fast, naive = times[(model.name, n, "fast")], times[(model.name, n, "naive")]
        st.info(
            f"For {n} samples from this model: naive {naive:.2f} s, fast {fast:.2f} s, "
            f"{naive / fast:.0f} times faster (time to draw, not to display).",
            icon=":material/speed:",
        )
    else:
        st.caption(f"Switch to the {other} sampler to compare the times.")
elif can.family == "diffusion":  # many small denoising steps: how many, and which sampler, are the choice
    method = st.sidebar.radio("Sampler", list(SAMPLERS), format_func=SAMPLERS.get, key="diffusion_sampler")
    if method == "ddim":
        steps = int(st.sidebar.select_slider("Steps", [5, 10, 25, 50, 100, 200], value=50, key="diffusion_steps"))
    else:
        steps = model.timesteps
        st.sidebar.caption(f"DDPM takes every one of the {steps:,} steps: about {steps / 50:.0f} times DDIM's 50.")
    guidance = float(
        st.sidebar.slider(
            "Guidance scale",
            0.0,
            6.0,
            model.guidance,
            step=0.5,
            key="diffusion_guidance",
            help="Classifier-free guidance: eps = eps(x, no class) + s (eps(x, class) - eps(x, no class)). 0 ignores "
            f"the class, 1 is the plain conditional model, larger draws the class more clearly. {model.guidance:g} was "
            "chosen on the validation split.",
        )
    )
    st.caption(
        f"A diffusion model starts from noise, x_T ~ N(0, {temperature:g}² I), and removes a little of it at every "
        "step: the network predicts the noise in x_t, and the sampler steps toward the clean image that prediction "
        "implies. The Diffusion page shows every step."
    )
    progress = st.progress(0.0, text=f"Step 0 of {steps}")

    def on_step(i: int, total: int, x: np.ndarray, x0: np.ndarray) -> None:
        if i % max(1, total // 50) == 0 or i == total - 1:
            progress.progress((i + 1) / total, text=f"Step {i + 1} of {total}")

    start = time.perf_counter()
    images = model.sample(
        n, seed, temperature=temperature, labels=labels, steps=steps, method=method, guidance=guidance, on_step=on_step
    )
    progress.empty()
    show_result(images, time.perf_counter() - start, f"{method.upper()}, {steps} steps, guidance {guidance:g}")
elif can.family == "flow":
    st.caption(
        f"A normalizing flow draws a code z ~ N(0, {temperature:g}² I) as large as the image ({can.latent_dim} numbers) "
        "and runs its invertible network backwards: every step can be undone, so the density of each image is exact "
        "(the change of variables). A temperature below 1 gives smoother, more typical digits."
    )
    with display.timed("Sampling...") as t:
        images = model.sample(n, seed, temperature=temperature)
    show_result(images, t["seconds"], "z drawn and inverted")
elif can.sample_kind == "probabilities":  # a decoder's Bernoulli means: the coins can be flipped too
    show = st.sidebar.radio(
        "Show",
        ["mean", "binary"],
        format_func={"mean": "Pixel probabilities p(x | z)", "binary": "A binary sample x ~ p(x | z)"}.get,
        key="show",
        help="The decoder gives each pixel a probability of being on. A binary sample flips those coins, "
        "which is what the model's likelihood is about.",
    )
    if can.has_prior:
        st.caption(
            f"A latent-variable model generates in two steps: draw z ~ N(0, {temperature:g}² I) in "
            f"{can.latent_dim} dimensions from the prior, then decode it into p(x | z)."
        )
    else:
        st.caption(
            "An autoencoder has no prior: here codes come from a Gaussian fitted to its training codes. "
            "Many still fall in holes between the codes it learned and decode to something that is not a digit: "
            "that is the gap the VAE's prior closes."
        )
    with display.timed("Sampling...") as t:
        probs = model.sample(n, seed, temperature=temperature, labels=labels)
        if show == "binary":
            probs = (np.random.default_rng(seed).random(probs.shape) < probs).astype("float32")
    show_result(probs, t["seconds"], "z drawn and decoded")
else:
    st.caption(
        f"An implicit model: the generator maps noise z ~ N(0, {temperature:g}² I) in {can.latent_dim} dimensions "
        "straight to an image. It was trained only to fool a discriminator, so it has no likelihood to report, "
        "only samples" + (", and here it is told which digit to draw." if can.conditional else ".")
    )
    with display.timed("Sampling...") as t:
        images = model.sample(n, seed, temperature=temperature, labels=labels)
    show_result(images, t["seconds"], "noise drawn and generated")
