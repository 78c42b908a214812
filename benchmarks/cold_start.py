"""Cold start: from `streamlit run` to a served page, and the size of what the app ships.

    python benchmarks/cold_start.py

Measures, from a fresh server process: seconds until the health endpoint answers, and until
the first browser visit of a page has finished rendering (first visits load the models and
fill the caches), for Home and Sample; then the same pages again, warm. Also prints the
total size of exported/.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _server import CHROMIUM, CHROMIUM_ARGS, RENDERED, ROOT, start_server  # noqa: E402


def main() -> None:
    files = [p for p in (ROOT / "exported").rglob("*") if p.is_file()]
    print(f"exported/: {sum(p.stat().st_size for p in files) / 1e6:.1f} MB in {len(files)} files")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page()
        start = time.perf_counter()
        proc, url, answered = start_server()
        try:
            print(f"server answering: {answered:.2f} s after start")
            for label in ("first", "warm"):
                for path in ("", "sample"):
                    t = time.perf_counter()
                    page.goto(f"{url}/{path}")
                    page.wait_for_timeout(100)
                    page.wait_for_selector(RENDERED, timeout=300_000)
                    done = time.perf_counter()
                    print(f"{label} visit of /{path}: rendered in {done - t:.2f} s ({done - start:.2f} s after start)")
        finally:
            proc.terminate()
            browser.close()


if __name__ == "__main__":
    main()
