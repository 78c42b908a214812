"""The model registry: one entry per shipped model, naming its class, config and training recipe.

Adding a model: write training/models/<model>.py (a module with ``Config``, ``loss``,
``networks`` and ``evaluate``), add an entry here, run ``python -m training train <name>``
and ``python -m training export <name>``; the app picks it up from its model card.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace

from torch import nn

from training.models.autoencoder import Autoencoder
from training.models.cgan import ConditionalGAN
from training.models.classifier import Classifier
from training.models.dcgan import DCGAN
from training.models.ddpm import DDPM
from training.models.diagonal_bilstm import PixelRNNDiagonal
from training.models.gated_pixelcnn import GatedPixelCNN
from training.models.mlp_classifier import MLPClassifier
from training.models.multiscale_pixelcnn import MultiscalePixelCNN
from training.models.pixelcnn import PixelCNN
from training.models.pixelcnn_pp import PixelCNNPP
from training.models.pixelrnn import PixelRNN
from training.models.realnvp import RealNVP
from training.models.vae import VAE


@dataclass(frozen=True)
class ModelSpec:
    name: str
    title: str
    model: type[nn.Module]
    config: dict = field(default_factory=dict)  # overrides of model.Config's defaults
    architecture: str = ""  # which inference class runs it: "autoencoder", "vae", ...
    family: str = ""  # the lecture's taxonomy: autoencoder, latent-variable, autoregressive, implicit, flow
    density: str = "none"  # what it gives for log p(x): exact, bound, none
    description: str = ""
    epochs: int = 100
    batch_size: int = 64
    lr: float = 1e-3
    binarize: bool = True  # train on dynamically binarized images (likelihood models) or grayscale
    # Model selection, on the validation split only: the figure that picks the epoch (and the candidate),
    # lower is better ("loss": the training objective on the fixed validation images; "fcd": samples
    # judged by the classifier), how often it is measured, and the recipes to choose between.
    select_on: str = "loss"
    validate_every: int = 1
    candidates: tuple[dict, ...] = ()
    grad_clip: float | None = (
        None  # clip the gradient's norm (for a loss whose rare spikes would derail training)  # overrides of config fields or of this recipe (batch_size, lr, epochs)
    )

    def build(self, image_size: int) -> nn.Module:
        return self.model(self.model.Config(**{**self.config, "image_size": image_size}))

    def with_overrides(self, overrides: dict) -> ModelSpec:
        """This recipe with some of its own fields (batch_size, lr, epochs) or its config's changed."""
        own = {f.name for f in fields(self)}
        config = {k: v for k, v in overrides.items() if k not in own}
        return replace(self, **{k: v for k, v in overrides.items() if k in own}, config={**self.config, **config})


MODELS: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in [
        # First: the classifier that scores every other model's samples at export.
        ModelSpec(
            name="classifier",
            title="MNIST classifier (sample-quality judge)",
            model=Classifier,
            architecture="classifier",
            family="classifier",
            density="none",
            description="A small CNN trained on the grayscale train split. Its 128-d penultimate features give "
            "the Frechet classifier distance of generated images to the test split.",
            epochs=30,
            binarize=False,
        ),
        ModelSpec(
            name="mlp_classifier",
            title="MLP classifier (second sample-quality judge)",
            model=MLPClassifier,
            architecture="classifier",
            family="classifier",
            density="none",
            description="A multilayer perceptron on the flat 784 pixels, trained on the grayscale train split without "
            "shifts: a second judge whose 128-d features give a second Frechet distance, to see whether a "
            "ranking of models depends on the judge.",
            epochs=30,
            binarize=False,
        ),
        ModelSpec(
            name="ae",
            title="Autoencoder, 16-d code",
            model=Autoencoder,
            config={"z_dim": 16},
            architecture="autoencoder",
            family="autoencoder",
            density="none",
            description="Convolutional autoencoder trained to reconstruct binarized digits (Bernoulli loss). "
            "No prior over codes, so no likelihood and no principled way to sample.",
            epochs=100,
        ),
        ModelSpec(
            name="vae",
            title="VAE, 16-d latent",
            model=VAE,
            config={"z_dim": 16},
            architecture="vae",
            family="latent-variable",
            density="bound",
            description="Variational autoencoder: Gaussian q(z|x), N(0, I) prior, Bernoulli p(x|z). "
            "Trained on the ELBO; log p(x) estimated with the IWAE bound.",
            epochs=150,  # a budget: the epoch kept is the one with the lowest validation loss (-ELBO)
        ),
        ModelSpec(
            name="vae2d",
            title="VAE, 2-d latent",
            model=VAE,
            config={"z_dim": 2},
            architecture="vae",
            family="latent-variable",
            density="bound",
            description="The same VAE with a 2-d latent, so the whole latent space can be drawn: "
            "the learned manifold of digits (Kingma and Welling 2014, fig. 4).",
            epochs=100,
        ),
        ModelSpec(
            name="pixelcnn",
            title="PixelCNN",
            model=PixelCNN,
            config={},
            architecture="pixelcnn",
            family="autoregressive",
            density="exact",
            description="PixelCNN (van den Oord et al. 2016): a 7x7 mask-A convolution and residual blocks of "
            "3x3 mask-B convolutions give every pixel's Bernoulli conditional in one pass; exact likelihood "
            "by the chain rule.",
            epochs=40,  # a budget: the epoch kept is the one with the lowest validation NLL
        ),
        ModelSpec(
            name="gated_pixelcnn",
            title="Gated PixelCNN, class-conditional",
            model=GatedPixelCNN,
            config={},
            architecture="gated_pixelcnn",
            family="autoregressive",
            density="exact",
            description="Gated PixelCNN (van den Oord et al. 2016b): vertical and horizontal stacks with no blind "
            "spot, tanh x sigmoid gates, conditioned on the digit class. Exact likelihood; its NLL is of the "
            "class-marginal p(x) = mean over classes of p(x | y).",
            # 20 epochs, a budget set by time (about 2 minutes an epoch on one CPU core); the epoch kept
            # is the one with the lowest validation NLL given the class (its training loss).
            epochs=20,
        ),
        ModelSpec(
            name="pixelrnn",
            title="PixelRNN (Row LSTM)",
            model=PixelRNN,
            config={},
            architecture="pixelrnn",
            family="autoregressive",
            density="exact",
            description="PixelRNN with Row LSTM layers (van den Oord et al. 2016): a 7x7 mask-A convolution, then "
            "LSTMs that sweep the image row by row. Exact likelihood by the chain rule.",
            # 20 epochs, a budget set by time: the recurrence makes a step ~1 s on 2 CPU cores. The epoch
            # kept is the one with the lowest validation NLL.
            epochs=20,
        ),
        ModelSpec(
            name="pixelrnn_diagonal",
            title="PixelRNN (Diagonal BiLSTM)",
            model=PixelRNNDiagonal,
            config={},
            architecture="pixelrnn_diagonal",
            family="autoregressive",
            density="exact",
            description="PixelRNN with Diagonal BiLSTM layers (van den Oord et al. 2016): the image is skewed so each "
            "diagonal is a column, and two LSTMs sweep it from the left and from the right, the second shifted down "
            "a row; every pixel sees the whole context above. Exact likelihood by the chain rule.",
            # 24 epochs, a budget set by time (about 2 minutes an epoch on one CPU thread: 55 skewed columns, two
            # directions); the epoch kept is the one with the lowest validation NLL.
            epochs=24,
        ),
        ModelSpec(
            name="pixelcnn_pp",
            title="PixelCNN++ (8-bit)",
            model=PixelCNNPP,
            config={"likelihood": "logistic_mixture"},
            architecture="pixelcnn_pp",
            family="autoregressive",
            density="exact",
            description="PixelCNN++ (Salimans et al. 2017) on 8-bit grayscale digits: each pixel's 256 values get the "
            "mass of a mixture of 5 logistics over their bins; gated ResNet blocks with dropout, and a context "
            "stream that goes down to 7 x 7 and back up with short-cuts. Exact likelihood by the chain rule.",
            # 60 epochs, a budget set by time (about a minute an epoch on one CPU thread); the epoch kept is the
            # one with the lowest validation NLL.
            epochs=60,
            binarize=False,
        ),
        ModelSpec(
            name="pixelcnn_softmax",
            title="PixelCNN, 256-way softmax (8-bit)",
            model=PixelCNNPP,
            config={"likelihood": "softmax"},
            architecture="pixelcnn_pp",
            family="autoregressive",
            density="exact",
            description="The PixelCNN++ network with a 256-way softmax per pixel instead of the logistic mixture "
            "(the original PixelCNN's output): the same size, data and training time, to show what the "
            "discretized logistic loss buys. Exact likelihood by the chain rule.",
            # 45 epochs: its 256-way head makes a step about a third slower, so 45 epochs take PixelCNN++'s 60 epochs'
            # time (the comparison is at equal training time); the epoch kept is chosen on validation.
            epochs=45,
            binarize=False,
        ),
        ModelSpec(
            name="pixelcnn_multiscale",
            title="PixelCNN, multi-scale (8-bit)",
            model=MultiscalePixelCNN,
            config={},
            architecture="multiscale",
            family="autoregressive",
            density="exact",
            description="A multi-scale PixelCNN (after Reed et al. 2017) on 8-bit grayscale digits: a 7 x 7 PixelCNN++ "
            "drawn pixel by pixel, then 14 x 14 and 28 x 28, each level's new pixels in three groups drawn all at "
            "once given the groups before: 55 sequential steps instead of 784. Exact likelihood by the chain rule "
            "over pixels and groups.",
            # 30 epochs, a budget set by time (about 1.5 minutes an epoch on one CPU thread); the epoch kept is the one
            # with the lowest validation NLL.
            epochs=30,
            binarize=False,
        ),
        ModelSpec(
            name="dcgan",
            title="DCGAN",
            model=DCGAN,
            architecture="gan",
            family="implicit",
            density="none",
            description="DCGAN (Radford et al. 2016) on grayscale digits: a generator from 64-d noise against a "
            "discriminator, non-saturating loss. Samples only, no likelihood.",
            epochs=100,  # a budget (~15 minutes on one CPU thread); the epoch kept is chosen on validation
            batch_size=32,
            lr=2e-4,  # DCGAN's learning rate for both players
            binarize=False,
            # Chosen on validation only: the judge's FCD of 1,000 samples against the 450 validation digits,
            # every 5 epochs, over these recipes (the R1 penalty on or off, batch 32 or 64).
            select_on="fcd",
            validate_every=5,
            candidates=({"r1_gamma": 1.0}, {"r1_gamma": 0.0}, {"r1_gamma": 1.0, "batch_size": 64}),
        ),
        ModelSpec(
            name="cgan",
            title="Conditional GAN",
            model=ConditionalGAN,
            architecture="gan",
            family="implicit",
            density="none",
            description="Class-conditional GAN (Mirza and Osindero 2014) on the DCGAN backbone: ask for a digit.",
            epochs=60,
            lr=2e-4,  # DCGAN's learning rate for both players
            binarize=False,
            select_on="fcd",  # on validation, as for the DCGAN: R1 off or on
            validate_every=5,
            candidates=({"r1_gamma": 0.0}, {"r1_gamma": 1.0}),
        ),
        ModelSpec(
            name="realnvp",
            title="RealNVP flow",
            model=RealNVP,
            architecture="flow",
            family="flow",
            density="exact",
            description="A normalizing flow (Dinh et al. 2017, with Glow's actnorm): affine couplings over a "
            "checkerboard and over channels, a squeeze and a multi-scale factor-out, on 8-bit grayscale digits. "
            "An exact likelihood by the change of variables, and an exact code for every image.",
            epochs=100,  # a budget (~75 minutes on one CPU thread); the epoch kept is the best on validation
            lr=5e-4,
            binarize=False,
            validate_every=2,
            # Unclipped, one batch at epoch 26 sent the validation NLL from 931 to 2,906 nats; it had not recovered
            # 4 epochs later. The loss is in nats per image (about 1,000): 100 clips only such spikes.
            grad_clip=100.0,
        ),
        ModelSpec(
            name="ddpm",
            title="Diffusion (DDPM), class-conditional",
            model=DDPM,
            architecture="diffusion",
            family="diffusion",
            density="bound",
            description="A denoising diffusion model (Ho et al. 2020) on 8-bit grayscale digits: a U-Net learns to "
            "undo 1,000 small steps of Gaussian noise; sampled by DDPM or DDIM, class-conditional with "
            "classifier-free guidance (its scale chosen on validation). Its likelihood is the variational bound.",
            epochs=120,  # a budget (~1 hour on one CPU thread); the epoch kept is the best on validation
            lr=5e-4,
            binarize=False,
            validate_every=5,
        ),
    ]
}


def get_spec(name: str) -> ModelSpec:
    try:
        return MODELS[name]
    except KeyError:
        raise KeyError(f"unknown model {name!r}; choose one of: {', '.join(MODELS)}") from None
