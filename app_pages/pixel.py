"""One pixel: the whole distribution an 8-bit autoregressive model predicts for a single pixel."""

import numpy as np
import streamlit as st

from app import display, models, plots, widgets
from inference.autoregressive import in_progress

display.header(
    "One pixel's prediction",
    "An autoregressive model's output at a pixel is a distribution over all 256 grey levels, given the pixels before "
    "it in its order (raster order; coarse to fine for the multi-scale model). PixelCNN++ writes it as a mixture of a few logistics on the grey scale, so neighbouring "
    "levels share probability; the softmax model learns each of the 256 bars on its own.",
    settings="The pixel (row and column) is in the sidebar",
)

display.warn_unavailable(models.unavailable(models.eight_bit_chain_rule))
entries = display.require(models.available(models.eight_bit_chain_rule), "8-bit autoregressive model")

left, right = st.columns([1, 2], gap="large")
with left:
    chosen = widgets.digit_input()
if chosen is None:
    st.stop()
image = chosen.eight_bit
first = widgets.get_model(entries[0].name)


def most_uncertain() -> None:
    """Point the sliders at the pixel whose predicted distribution has the most entropy under the first model:
    a pixel on a stroke's edge, where the prediction is worth looking at (most pixels are surely black)."""
    if first is not None:
        st.session_state["pixel_row"], st.session_state["pixel_col"] = first.most_uncertain_pixel(image)


if "pixel_row" not in st.session_state:  # a first visit starts where there is something to see
    most_uncertain()
row = int(st.sidebar.slider("Row", 0, 27, 12, key="pixel_row", help="Counted from the top, 0 to 27."))
col = int(st.sidebar.slider("Column", 0, 27, 14, key="pixel_col", help="Counted from the left, 0 to 27."))
st.sidebar.button(
    "Most uncertain pixel", on_click=most_uncertain, icon=":material/my_location:",
    help=f"The pixel where {entries[0].title} is least sure, for this digit: its prediction has the most entropy.",
)  # fmt: skip
log_scale = st.sidebar.toggle("Log probability axis", value=False, key="pixel_log", help="To see the small bars.")
true_level = int(round(float(image[row, col]) * 255))
with left:
    # what the model sees: the pixels before (row, col); the rest is gray, and does not matter to it
    seen = in_progress(image[None], row)[0]
    seen[row, col:] = 0.3
    display.show_digit_marked(
        seen,
        (row, col),
        caption=f"What a raster-order model sees for pixel ({row}, {col}): the pixels before it (the rest in gray)",
    )

with right:
    for entry in entries:
        model = widgets.get_model(entry.name)
        if model is None:
            continue
        prediction = model.pixel_prediction(image, row, col)
        p_true = float(prediction["probs"][true_level])
        st.markdown(f"**{model.title}**")
        if model.capabilities.pixel_order != "raster":  # its own order: say where the pixel comes and show its context
            inner, words = st.columns([1, 3])
            with inner:
                context = np.where(model.seen_before(row, col), image, np.float32(0.3))
                display.show_digit_marked(context, (row, col), scale=4)
            with words:
                st.caption(
                    f"This model's order is coarse to fine, not raster: pixel ({row}, {col}) is "
                    f"{model.describe_position(row, col)}. It sees the pixels shown (the rest in gray): "
                    "whole coarser levels, but not its own group's neighbours."
                )
        # the element's height holds the plot, the axis and, for a mixture, its legend of components under it
        tall = 420 if "components" in prediction else 300
        st.altair_chart(plots.pixel_distribution(prediction, true_level, log_scale), width="stretch", height=tall)
        mode = int(np.argmax(prediction["probs"]))
        st.caption(
            f"p(level {true_level}, the true one: red line) = {p_true:.3f}, a surprise of {-np.log(max(p_true, 1e-300)):.2f} "
            f"nats; the likeliest level is {mode} (p = {prediction['probs'][mode]:.3f})."
            + (
                f" {model.mixtures} logistic components, their masses summed over each level's bin."
                if "components" in prediction
                else " 256 separate probabilities: nothing ties level 200 to level 201."
            )
        )
st.caption(
    "Most pixels of a digit are background, so most predictions pile up on 0; on a stroke's edge the model spreads "
    "its probability over the grey levels between black and white. Summing -log p(true level) over the 784 pixels "
    "gives the image's exact likelihood (the Likelihood page, 8-bit track)."
)
