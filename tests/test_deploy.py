"""Hosted-deploy readiness: the app runs from requirements.txt alone, in a fresh virtual environment
without torch, and serves its pages.

This installs requirements.txt from PyPI into a new venv, so it is opt-in: CI sets
GENLAB_DEPLOY_CHECK=1 (see .ci/run); elsewhere it is skipped.
"""

import os
import subprocess
import textwrap
import time
import urllib.request
import venv
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

pytestmark = [
    pytest.mark.slow,  # see pyproject.toml: the inner loop is -m 'not slow'
    pytest.mark.skipif(
        os.environ.get("GENLAB_DEPLOY_CHECK") != "1",
        reason="set GENLAB_DEPLOY_CHECK=1 to install requirements.txt into a fresh venv",
    ),
]


def test_app_runs_from_requirements_txt_alone(tmp_path):
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r", str(REPO / "requirements.txt")],
        capture_output=True, text=True, timeout=1200,
    )  # fmt: skip
    assert install.returncode == 0, install.stderr[-3000:]
    script = textwrap.dedent(
        """
        import importlib.util, sys
        assert importlib.util.find_spec("torch") is None, "torch must not come with requirements.txt"
        from streamlit.testing.v1 import AppTest
        import glob
        for page in sorted(glob.glob("app_pages/*.py")):
            at = AppTest.from_file("streamlit_app.py", default_timeout=300).run()
            at.switch_page(page).run()
            assert not at.exception, (page, [e.value for e in at.exception])
        print("pages ok")
        """
    )
    result = subprocess.run([str(python), "-c", script], cwd=REPO, capture_output=True, text=True, timeout=1200)
    assert result.returncode == 0, result.stderr[-4000:]
    assert "pages ok" in result.stdout
    # and the real server starts headless and answers
    server = subprocess.Popen(
        [str(python), "-m", "streamlit", "run", "streamlit_app.py", "--server.port", "8765", "--server.headless", "true"],
        cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        for _ in range(120):
            try:
                if urllib.request.urlopen("http://127.0.0.1:8765/_stcore/health", timeout=2).read() == b"ok":
                    break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail("the app did not start from requirements.txt")
    finally:
        server.terminate()
        server.wait(timeout=30)
