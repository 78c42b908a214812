"""What the browser benchmarks share: a streamlit server on a free port (or deploy/serve.sh's replicas
behind nginx), chromium's flags, the browser component's frame, and the timings of the server's script runs (as
the page sees them, and as the app logs them)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip
RENDERED = '[data-testid="stApp"][data-test-script-state="notRunning"]'
RUN_LOG = """() => {
    // when each script run on the server starts and ends, in this page's clock
    const app = document.querySelector('[data-testid="stApp"]');
    window.runStarts = []; window.runEnds = [];
    new MutationObserver((records) => {
        for (const r of records) {
            const now = app.dataset.testScriptState;
            if (r.oldValue !== "running" && now === "running") window.runStarts.push(performance.now());
            if (r.oldValue === "running" && now !== "running") window.runEnds.push(performance.now());
        }
    }).observe(app, { attributes: true, attributeOldValue: true, attributeFilter: ["data-test-script-state"] });
}"""


def component_frame(pg, timeout: float = 60, ready: str = "() => window.genlab"):
    """The browser component's frame (the Live page's views, Compare's and Complete's rows), once ``ready`` holds."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        frame = next((f for f in pg.frames if "app.live.live" in f.url), None)
        if frame is not None:
            frame.wait_for_function(ready, timeout=timeout * 1000)
            return frame
        pg.wait_for_timeout(20)
    raise RuntimeError("the browser component did not appear")


def server_runs(log: Path, since: float) -> list[float]:
    """The server's own seconds per script run (the app's GENLAB_RUN_LOG), for runs that started after ``since``."""
    if not log.is_file():
        return []
    runs = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    return [r["seconds"] for r in runs if r["start"] >= since]


def start_server(poll: float = 0.05, prefix: tuple[str, ...] = ()) -> tuple[subprocess.Popen, str, float]:
    """Start `streamlit run` on a free port (after ``prefix``, e.g. taskset's); return it, its URL, and seconds
    until it answered."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    start = time.perf_counter()
    proc = subprocess.Popen(
        [*prefix, sys.executable, "-m", "streamlit", "run", "streamlit_app.py", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    while time.perf_counter() - start < 120:
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=1).read() == b"ok":
                return proc, url, time.perf_counter() - start
        except OSError:
            time.sleep(poll)
    proc.kill()
    raise RuntimeError("the server did not start within 120 s")


def _free_port(consecutive: int = 1) -> int:
    """The first of ``consecutive`` free ports in a row."""
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            first = s.getsockname()[1]
        try:
            for port in range(first + 1, first + consecutive):
                with socket.socket() as s:
                    s.bind(("127.0.0.1", port))
            return first
        except OSError:
            continue


def start_served(replicas: int, prefix: tuple[str, ...] = ()) -> tuple[subprocess.Popen, str, float]:
    """`deploy/serve.sh replicas` on loopback ports (after ``prefix``, e.g. taskset's, which nginx and the replicas
    inherit): nginx in front of that many streamlit replicas. Return it (stop it with stop_served), nginx's URL,
    and seconds until nginx answered (after every replica had)."""
    port = _free_port()
    env = dict(os.environ, GENLAB_PORT=str(port), GENLAB_LISTEN="127.0.0.1", GENLAB_REPLICA_PORT=str(_free_port(replicas)),
               GENLAB_RUN_DIR=tempfile.mkdtemp(prefix="genlab-bench-"), PYTHON=sys.executable)  # fmt: skip
    start = time.perf_counter()
    proc = subprocess.Popen([*prefix, "bash", "deploy/serve.sh", str(replicas)], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, start_new_session=True)  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    while time.perf_counter() - start < 180 and proc.poll() is None:
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=1).read() == b"ok":
                return proc, url, time.perf_counter() - start
        except OSError:
            time.sleep(0.1)
    stop_served(proc)
    raise RuntimeError(f"deploy/serve.sh {replicas} did not answer within 180 s")


def stop_served(proc: subprocess.Popen) -> None:
    """Stop serve.sh, which stops nginx and its replicas (all in its process group)."""
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
