"""Where a page's server time goes: cProfile of its first render and of its main interaction, under AppTest.

    python benchmarks/profile_pages.py [PAGE ...] [--top 12]

For each page (default: those over issue 18's targets in `benchmarks/app.py`) prints the render's wall time
and the functions of this repository (app/, app_pages/, inference/) with the most cumulative time, then the
largest outside calls (onnxruntime, Altair, PIL, numpy, Streamlit) by their own time. Both
renders run in this one process, in the order a visitor meets them, so the first includes loading the
models and filling the caches. Nothing here passes or fails: it prints what it measured.
"""

from __future__ import annotations

import argparse
import cProfile
import importlib.util
import os
import platform
import pstats
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
# benchmarks/app.py's pages and interactions, loaded by path: the name "app" is the app's own package
_spec = importlib.util.spec_from_file_location("benchmark_app", Path(__file__).resolve().parent / "app.py")
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)
open_page, INTERACTIONS = bench.open_page, bench.INTERACTIONS

SLOW = ["compare", "density_2d", "interpolate", "likelihood", "complete", "gan_lab"]
OURS = (str(ROOT / "app"), str(ROOT / "app_pages"), str(ROOT / "inference"))


def profiled_run(at) -> tuple[list[cProfile.Profile], float]:
    """at.run() with every thread it starts profiled (AppTest runs the page script in a thread of its own, which a
    profile of this thread would see only as waiting)."""
    profiles: list[cProfile.Profile] = []

    def start_profiling(*_):
        sys.setprofile(None)
        profile = cProfile.Profile()
        profiles.append(profile)
        profile.enable()  # from here on this thread's calls are counted

    threading.setprofile(start_profiling)
    try:
        start = time.perf_counter()
        at.run()
        return profiles, time.perf_counter() - start
    finally:
        threading.setprofile(None)


def report(profiles: list[cProfile.Profile], seconds: float, what: str, top: int) -> None:
    if not profiles:
        print(f"\n### {what}: {seconds:.2f} s (no thread was profiled)")
        return
    stats = pstats.Stats(*profiles)
    rows = stats.stats  # {(file, line, name): (calls, primitive calls, own time, cumulative, callers)}
    ours = sorted(
        ((cum, calls, f"{Path(f).relative_to(ROOT)}:{line} {name}") for (f, line, name), (calls, _, _, cum, _)
         in rows.items() if f.startswith(OURS)),
        reverse=True,
    )  # fmt: skip
    theirs = sorted(
        ((own, calls, f"{Path(f).name}:{line} {name}" if f.startswith("/") else name)
         for (f, line, name), (calls, _, own, _, _) in rows.items() if not f.startswith(OURS)),
        reverse=True,
    )  # fmt: skip
    print(f"\n### {what}: {seconds:.2f} s\n")
    print("| cumulative (s) | calls | in this repository |")
    print("|---|---|---|")
    for cum, calls, where in ours[:top]:
        print(f"| {cum:.3f} | {calls} | `{where}` |")
    print("\n| own time (s) | calls | outside |")
    print("|---|---|---|")
    for own, calls, where in theirs[: top // 2]:
        print(f"| {own:.3f} | {calls} | `{where}` |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pages", nargs="*", default=SLOW)
    parser.add_argument("--top", type=int, default=12)
    args = parser.parse_args()
    print(f"# Where the server's time goes, {platform.machine()}, {os.cpu_count()} cores")
    for page in args.pages:
        at = open_page(page)
        report(*profiled_run(at), f"{page}: first render", args.top)
        label, act = INTERACTIONS.get(page.partition("@")[0], ("", None))
        if act:
            act(at)
            report(*profiled_run(at), f"{page}: {label}", args.top)


if __name__ == "__main__":
    main()
