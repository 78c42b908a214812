"""The app's inference package: numpy and onnxruntime only, never torch, Streamlit or matplotlib.

Everything a page does is a plain function call here, so tests and benchmarks run the
code path the pages run:

    from inference import load_model, load_test_digits
    vae = load_model("vae")
    images = vae.sample(16, seed=0)              # (16, 28, 28) Bernoulli means
    nll = -vae.log_prob(digits.binary[:10])      # the IWAE bound, at the card's k
"""

from inference.data import TestDigits, load_test_digits
from inference.registry import ARCHITECTURES, EXPORTED_DIR, ModelEntry, ModelUnavailable, exported_dir, load_model, scan

__all__ = [
    "ARCHITECTURES",
    "EXPORTED_DIR",
    "ModelEntry",
    "ModelUnavailable",
    "TestDigits",
    "exported_dir",
    "load_model",
    "load_test_digits",
    "scan",
]
