"""Reconstruct: encode a digit, decode it back, with every model that has an encoder."""

import numpy as np
import streamlit as st

from inference import images as img
from inference import ui

ui.header(
    "Reconstruct",
    "An encoder compresses the image into a short code; the decoder must rebuild all 784 pixels from it. "
    "What survives the bottleneck is what the model learned to keep.",
)

source = st.segmented_control(
    "Input", ["Test digit", "Upload", "Draw"], default="Test digit", key="source", required=True, persist_state="session"
)

digit: np.ndarray | None = None
label = None
left, right = st.columns([1, 2], gap="large")
with left:
    if source == "Test digit":
        digits = ui.test_digits()
        index = ui.digit_picker("digit_index")
        digit, label = digits.gray(index), int(digits.labels[index])
    elif source == "Upload":
        upload = st.file_uploader(
            "A picture of one digit", type=["png", "jpg", "jpeg", "gif", "bmp", "webp", "tif", "tiff"], key="upload"
        )
        if upload is None:
            st.info("Upload a picture of a single digit, dark on light or light on dark.")
        else:
            try:
                digit = img.prepare_upload(upload.getvalue(), upload.name)
            except img.ImageInputError as err:
                st.error(f"That upload cannot be used: {err}", icon=":material/broken_image:")
    else:
        from streamlit_drawable_canvas import st_canvas

        canvas = st_canvas(
            stroke_width=22,
            stroke_color="#FFFFFF",
            background_color="#000000",
            width=280,
            height=280,
            drawing_mode="freedraw",
            return_image_data=True,
            key="canvas",
        )
        if canvas.json_data and canvas.json_data.get("objects"):
            try:
                digit = img.prepare_drawing(canvas.image_data)
            except img.ImageInputError as err:
                st.warning(str(err), icon=":material/draw:")
        else:
            st.info("Draw one digit on the black square, large and in the middle.")

if digit is None:
    st.stop()

with left:
    ui.show_digit(digit, caption="Input, as the models see it (28 x 28)" + (f": a {label}" if label is not None else ""))

entries = ui.available(["autoencoder", "vae"])
with right:
    if not entries:
        st.info("No model with an encoder is available. Run `python -m training all`.")
        st.stop()
    columns = st.columns(len(entries))
    for col, entry in zip(columns, entries):
        model = ui.get_model(entry.name)
        if model is None:
            continue
        with col:
            recon = model.reconstruct(digit)[0]
            bce = float(model.reconstruction_error(digit)[0])
            ui.show_digit(recon, caption=model.title, scale=6)
            st.metric("Reconstruction error", f"{bce:.1f} nats", help="Binary cross-entropy of the input under the decoded pixel probabilities, summed over 784 pixels: the training loss.")
            st.caption(f"Mean squared error per pixel: {float(np.mean((recon - digit) ** 2)):.4f}")

st.caption(
    "The autoencoder is trained only to reconstruct, so it usually reconstructs best. The VAE also pays for "
    "every nat of information its code carries (the KL term of the ELBO), and the 2-d VAE has only two numbers "
    "to describe the digit, so it returns a typical digit of the class it guesses."
)
