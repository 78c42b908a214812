"""The app, measured: time to first render of each page and of its main interaction, the process's
resident memory after loading every model, and its growth over 200 reruns.

    python benchmarks/app.py [--reruns 200]

Uses streamlit's AppTest, which runs the real page scripts in this process (no browser, so
the figures are the server side of a render). Compare and Complete, whose samplers run in the
visitor's browser, are also measured with every row drawn on the server ("compare@server"), as
they are where the browser cannot. Prints a table; nothing passes or fails.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from streamlit.testing.v1 import AppTest  # noqa: E402

from inference.runtime import resident_mb  # noqa: E402

PAGES = [
    "home", "sample", "reconstruct", "interpolate", "complete", "likelihood", "image_likelihood", "latent", "features",
    "compare", "density_1d", "density_2d", "density_2d_yours", "gan_lab",
]  # fmt: skip
INTERACTIONS = {
    "sample": ("change the seed", lambda at: at.sidebar.number_input(key="seed").set_value(3)),
    "reconstruct": ("another test digit", lambda at: at.number_input(key="digit_index").set_value(42)),
    "interpolate": ("spherical path", lambda at: at.sidebar.radio(key="kind").set_value("slerp")),
    "complete": ("hide the right half", lambda at: at.sidebar.radio(key="hide").set_value("right")),
    "likelihood": ("another test digit", lambda at: at.number_input(key="digit_index").set_value(42)),
    "gan_lab": ("scrub to the start", lambda at: at.slider(key="lab_frame").set_value(0)),
    "compare": ("change the seed", lambda at: at.sidebar.number_input(key="seed").set_value(3)),
    "density_1d": ("more EM components", lambda at: at.sidebar.slider(key="d1_k").set_value(4)),
    "density_2d": ("another data set", lambda at: at.sidebar.selectbox(key="d2_data").set_value("spiral")),
    "density_2d_yours": ("more EM components", lambda at: at.sidebar.slider(key="d2_k").set_value(12)),
}


def rss_mb() -> float:
    mb = resident_mb()  # the app's own measure (Linux); NaN elsewhere
    return float("nan") if mb is None else mb


# Pages whose samplers run in the visitor's browser (the rows view), by their toggle for the server path: measured
# both ways, "compare@server" being the page with every row drawn on the server (as before the browser drew them).
SERVER_PATH = {"compare": "compare_on_server", "complete": "complete_on_server"}


def open_page(page: str) -> AppTest:
    """A page ("compare", or "compare@server" for its server path), not run yet."""
    name, _, where = page.partition("@")
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=300)
    at.run()
    at.switch_page(f"app_pages/{name}.py")
    if where == "server":
        at.session_state[SERVER_PATH[name]] = True
    return at


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reruns", type=int, default=200)
    args = parser.parse_args()
    print(f"# The app under AppTest, {platform.machine()}, {os.cpu_count()} cores\n")
    start_rss = rss_mb()
    print("| page | first render (s) | interaction | its render (s) |")
    print("|---|---|---|---|")
    for page in PAGES:
        at = open_page(page)
        t = time.perf_counter()
        at.run()
        first = time.perf_counter() - t
        assert not at.exception, (page, at.exception)
        label, act = INTERACTIONS.get(page.partition("@")[0], ("", None))
        again = ""
        if act:
            act(at)
            t = time.perf_counter()
            at.run()
            again = f"{time.perf_counter() - t:.2f}"
        print(f"| {page} | {first:.2f} | {label} | {again} |")

    from inference import load_model, scan

    for name in scan():
        load_model(name)
    gc.collect()
    loaded = rss_mb()
    print(f"\nResident memory: {start_rss:.0f} MB at start, {loaded:.0f} MB after every page and every model loaded")

    # The two pages whose samplers the browser runs, with every row drawn on the server instead (the fallback): after
    # the memory figure above, which stays comparable with earlier tables (their scratch memory is the samplers').
    print("\n| page, every row on the server | first render (s) | interaction | its render (s) |")
    print("|---|---|---|---|")
    for page in [f"{name}@server" for name in SERVER_PATH]:
        at = open_page(page)
        t = time.perf_counter()
        at.run()
        first = time.perf_counter() - t
        label, act = INTERACTIONS[page.partition("@")[0]]
        act(at)
        t = time.perf_counter()
        at.run()
        assert not at.exception, (page, at.exception)
        print(f"| {page} | {first:.2f} | {label} | {time.perf_counter() - t:.2f} |")
    gc.collect()
    print(f"\nResident memory after those: {rss_mb():.0f} MB\n")

    at = open_page("sample")
    at.run()
    gc.collect()
    before = rss_mb()
    for i in range(args.reruns):
        at.sidebar.number_input(key="seed").set_value(i % 50)
        at.run()
    gc.collect()
    after = rss_mb()
    print(
        f"Growth over {args.reruns} reruns of the Sample page (new seed each): {after - before:+.1f} MB ({before:.0f} -> {after:.0f} MB)"
    )


if __name__ == "__main__":
    main()
