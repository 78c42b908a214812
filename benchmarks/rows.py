"""Compare's and Complete's sampler rows: drawn in the visitor's browser against drawn on the server, in one run.

    python benchmarks/rows.py [--seed 3] [--pin]

Opens Compare at a new seed and Complete at a new seed in headless chromium (onnxruntime-web 1.18, WASM, one thread)
and reads the browser's time for each row it draws (the rows view's own clock), the time until every row was drawn,
and the server's own time for the page's run at that seed (logged by the app: GENLAB_RUN_LOG). Then the same rows
through onnxruntime in this process, as the server path draws them (inference's samplers, one call per row), and the
two pages' reruns with every row drawn on the server (?compare_on_server=true). ``--pin`` runs the server on core 0
and chromium on core 1, as the classroom benchmark does. Prints tables; nothing passes or fails.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _server import CHROMIUM, CHROMIUM_ARGS, RENDERED, RUN_LOG, component_frame, server_runs, start_server  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

from inference import load_model, load_test_digits, views  # noqa: E402
from inference.autoregressive import hidden_mask  # noqa: E402


def new_seed(pg, log: Path, seed: int) -> float:
    """Type a seed into the sidebar's seed box; the server's own seconds for the run(s) it caused."""
    since = time.time()
    pg.evaluate(RUN_LOG)
    box = pg.get_by_role("spinbutton", name="Seed")
    box.fill(str(seed))
    box.press("Enter")
    pg.wait_for_function("() => window.runEnds.length > 0", timeout=300_000)
    while True:  # every run it caused: a second may follow the first (the seed's query parameter, a toggle's)
        pg.wait_for_selector(RENDERED, timeout=300_000)
        starts = pg.evaluate("() => window.runStarts.length")
        pg.wait_for_timeout(1000)
        if pg.evaluate("() => window.runStarts.length") == starts and pg.locator(RENDERED).count():
            return sum(server_runs(log, since))


def in_browser(pg, url: str, log: Path, page: str, seed: int) -> tuple[dict, float, float]:
    """A page opened at seed 0, then given ``seed``: the browser's seconds per row, until every row was drawn, and
    the server's run."""
    pg.goto(f"{url}/{page}?seed=0")
    pg.wait_for_selector(RENDERED, timeout=300_000)
    frame = component_frame(pg, 120, "() => window.genlab && window.genlab.view")
    frame.wait_for_function("() => window.genlab.view.test.rows() !== null", timeout=600_000)
    start = time.perf_counter()
    run = new_seed(pg, log, seed)
    frame.wait_for_function(
        "() => window.genlab.view.test.rows() !== null && window.genlab.stats.rowsDrawn >= 2", timeout=600_000
    )
    return frame.evaluate("() => ({...window.genlab.stats.rowSeconds})"), time.perf_counter() - start, run


def on_server(pg, url: str, log: Path, page: str, toggle: str, seed: int) -> float:
    pg.goto(f"{url}/{page}?seed=0&{toggle}=true")
    pg.wait_for_selector(RENDERED, timeout=300_000)
    pg.wait_for_timeout(500)
    return new_seed(pg, log, seed)


def server_rows(keys: list[str], seed: int, page: str) -> dict[str, float]:
    """The same rows drawn through onnxruntime in this process, as the server path draws them."""
    digits = load_test_digits()
    seconds = {}
    for key in keys:
        if page == "compare":
            kind, name = key.split("/")
            model = load_model(name)
            start = time.perf_counter()
            views.compare_row(model, kind, seed, digits)
        else:
            model = load_model(key)
            label = int(digits.labels[views.DEFAULT_DIGIT]) if model.conditional else None
            image = views.default_digit(digits, model.capabilities.image_kind)
            start = time.perf_counter()
            model.complete(image, hidden_mask("bottom"), 4, seed, labels=label)
        seconds[key] = time.perf_counter() - start
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--pin", action="store_true", help="server on core 0, chromium on core 1")
    args = parser.parse_args()
    print(f"# Sampler rows in the browser and on the server, {platform.machine()}, {os.cpu_count()} cores"
          f"{', server on core 0 and chromium on core 1' if args.pin else ''}\n")  # fmt: skip
    log = Path(tempfile.mkdtemp(prefix="genlab-runs-")) / "runs.jsonl"
    os.environ["GENLAB_RUN_LOG"] = str(log)
    proc, url, _ = start_server(prefix=("taskset", "-c", "0") if args.pin else ())
    if args.pin:  # chromium (this process's child) on the other core
        os.sched_setaffinity(0, set(range(1, os.cpu_count() or 2)) or {0})
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            pg = browser.new_context(viewport={"width": 1400, "height": 1600}).new_page()
            for page, toggle in (("compare", "compare_on_server"), ("complete", "complete_on_server")):
                rows, total, run = in_browser(pg, url, log, page, args.seed)
                served = on_server(pg, url, log, page, toggle, args.seed + 1)
                local = server_rows(sorted(rows), args.seed, page)
                print(f"## {page.title()}, a new seed\n")
                print(f"The server's run: **{run:.2f} s** with the samplers in the browser, **{served:.2f} s** with "
                      f"every row drawn on the server. Every browser row drawn {total:.1f} s after the new seed.\n")  # fmt: skip
                print("| row | browser (s) | server's onnxruntime, this process (s) | ratio |")
                print("|---|---|---|---|")
                for key in sorted(rows, key=rows.get):
                    print(f"| {key} | {rows[key]:.2f} | {local[key]:.2f} | {rows[key] / local[key]:.1f}x |")
                print(f"| all | {sum(rows.values()):.2f} | {sum(local.values()):.2f} | |\n")
            browser.close()
    finally:
        proc.terminate()
        proc.wait(timeout=30)


if __name__ == "__main__":
    main()
