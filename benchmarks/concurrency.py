"""Latency of the Sample page with several users at once: N browser sessions against one server.

    python benchmarks/concurrency.py [--sessions 8] [--rounds 2] [--through-nginx N [N ...]]

Starts `streamlit run` (or, with --through-nginx, deploy/serve.sh: nginx in front of N replicas, once for
each N given, so `--through-nginx 1 2` compares one replica with two in one run), opens N isolated browser contexts in Debian's chromium (headless),
and has each load the Sample page for every generative model in turn, at once, timing each
load from navigation until the script has finished (the page's script state is notRunning).
Each grid image must equal the one a lone session gets for the same model and seed.
Prints p50/p95 latency for one session alone and for N at once, per server.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from _server import CHROMIUM, CHROMIUM_ARGS, RENDERED, start_served, start_server, stop_served  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

from inference import scan  # noqa: E402


def session(url: str, models: list[str], rounds: int, out: list, images: dict, errors: list) -> None:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_context(viewport={"width": 1200, "height": 900}).new_page()
        for r in range(rounds):
            for model in models:
                start = time.perf_counter()
                page.goto(f"{url}/sample?model={model}&seed={r}&n=16")
                page.wait_for_timeout(200)
                page.wait_for_selector(RENDERED, timeout=300_000)
                out.append(time.perf_counter() - start)
                if page.locator('[data-testid="stException"]').count():
                    errors.append(f"{model}: exception shown")
                src = page.locator('[data-testid="stImage"] img').first.get_attribute("src")
                response = page.request.get(src if src.startswith("http") else url + src)
                if not response.ok:  # behind nginx: a picture asked of a replica that does not hold it
                    errors.append(f"{model}: picture {response.status}")
                images.setdefault((model, r), set()).add(response.body())
        browser.close()


def percentiles(values: list[float]) -> str:
    q = statistics.quantiles(values, n=20)
    return f"p50 {statistics.median(values):.2f} s, p95 {q[18]:.2f} s ({len(values)} page loads)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--through-nginx", type=int, nargs="+", metavar="N",
                        help="through nginx in front of N replicas (deploy/serve.sh), for each N given")  # fmt: skip
    args = parser.parse_args()
    models = [n for n, e in scan().items() if e.available and e.capabilities.generative]
    servers = [(f"nginx, {n} replica{'s' * (n > 1)}", n) for n in args.through_nginx or []] or [("streamlit", 0)]
    print(f"# Sample page, {len(models)} models, {platform.machine()}, {os.cpu_count()} cores\n")
    images, rows = {}, []
    for name, replicas in servers:
        proc, url, _ = start_served(replicas) if replicas else start_server()
        try:
            alone, errors = [], []
            session(url, models, args.rounds, alone, images, errors)
            together: list[float] = []
            threads = [
                threading.Thread(target=session, args=(url, models, args.rounds, together, images, errors))
                for _ in range(args.sessions)
            ]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        finally:
            if replicas:
                stop_served(proc)
            else:
                proc.terminate()
        rows.append((name, alone, together, errors))
    print(f"| server | 1 session | {args.sessions} sessions at once | errors |\n|---|---|---|---|")
    for name, alone, together, errors in rows:
        print(f"| {name} | {percentiles(alone)} | {percentiles(together)} | {len(errors)} |")
    differing = [k for k, v in images.items() if len(v) != 1]
    print(f"\nmodel/seed pairs whose image differed between sessions (and servers): {len(differing)}")
    for _, _, _, errors in rows:
        for e in errors[:5]:
            print("  ", e)


if __name__ == "__main__":
    main()
