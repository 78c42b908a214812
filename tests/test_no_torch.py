"""The app and its inference package work with torch (and training/) made unimportable, and matplotlib (a
development tool only: requirements.txt does not have it)."""

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # see pyproject.toml: the inner loop is -m 'not slow'

REPO = Path(__file__).resolve().parent.parent

SCRIPT = textwrap.dedent(
    """
    import sys
    # A None entry in sys.modules makes `import torch` raise ImportError, like an uninstalled package.
    for blocked in ("torch", "torchvision", "training", "onnxscript", "mlxtend", "sklearn", "matplotlib"):
        sys.modules[blocked] = None

    import numpy as np

    from inference import load_model, load_test_digits, scan
    import inference.cluster, inference.density, inference.features, inference.ganlab, inference.images
    import inference.latent, inference.metrics, inference.probes, inference.toy

    # The inference package is numpy + onnxruntime: it imports neither Streamlit nor matplotlib.
    ui = sorted(m for m in sys.modules if m.split(".")[0] in ("streamlit", "matplotlib", "altair", "pandas")
                and sys.modules[m] is not None)  # fmt: skip
    assert not ui, ui

    digits = load_test_digits()
    for name, entry in scan().items():
        assert entry.available, entry.problem
        model = load_model(name)
        can = model.capabilities
        if not can.generative:  # the sample-quality judges
            assert model.predict(digits.gray([0, 1])).shape[0] == 2
            continue
        assert model.sample(4, 0).shape == (4, 28, 28)
        if can.has_encoder:
            assert model.reconstruct(digits.gray([0, 1])).shape == (2, 28, 28)
        if can.has_likelihood:
            # a cheap bound: the VAE's IWAE at k = 10, the diffusion model's steps in 10 strata
            kwargs = {"k": 10} if can.family == "latent-variable" else {"terms": 10} if can.family == "diffusion" else {}
            assert np.isfinite(model.log_prob(digits.binary[:2].astype(np.float32), **kwargs)).all()

    from streamlit.testing.v1 import AppTest

    pages = [
        "home", "sample", "diffusion", "reconstruct", "interpolate", "complete", "likelihood", "gan_lab", "features",
        "compare", "density_1d", "density_2d", "density_2d_yours", "image_likelihood", "latent",
    ]  # fmt: skip
    for page in [f"app_pages/{p}.py" for p in pages]:
        at = AppTest.from_file("streamlit_app.py", default_timeout=120).run()
        at.switch_page(page).run()
        assert not at.exception, (page, [e.value for e in at.exception])

    leaked = sorted(m for m in sys.modules if m.split(".")[0] in ("torch", "training") and sys.modules[m] is not None)
    assert not leaked, leaked
    print("ok")
    """
)


def test_app_runs_without_torch():
    result = subprocess.run([sys.executable, "-c", SCRIPT], cwd=REPO, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-4000:]
    assert result.stdout.strip().endswith("ok")
