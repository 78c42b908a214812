"""The server's memory over a long stretch of mixed use: several browser sessions at once, every page, uploads,
drawings, naive sampling, for N minutes.

    python benchmarks/soak.py [--minutes 30] [--sessions 3]

Starts `streamlit run`, then each session (headless chromium, a context each) goes round a tour until the time
is up: every page of the app (seeded pages at a new seed each round), an upload of a digit and of a broken file
on Reconstruct, a drawing on Reconstruct, and the naive sampler on the Sample page. The server's resident memory
is read from /proc every 5 s. Prints it after the first tour (warm), at its highest and at the end, with the
growth from warm to the end, then once the sessions have gone and the server has been idle 10 s (past the idle
trim) and 140 s (past the 120 s for which Streamlit keeps a closed tab's session, and the trim after it), and the page
loads and errors; nothing passes or fails (issue 18: at most 400 MB a replica, growth at most 50 MB).
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import platform
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from _server import CHROMIUM, CHROMIUM_ARGS, RENDERED, start_server  # noqa: E402
from playwright.async_api import async_playwright  # noqa: E402

PAGES = ["", "sample", "live", "diffusion", "interpolate", "complete", "reconstruct", "likelihood", "pixel",
         "image_likelihood", "latent", "features", "compare", "density_1d", "density_2d", "density_2d_yours",
         "gan_lab"]  # fmt: skip
SEEDED = {"sample", "interpolate", "compare", "complete"}


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def test_files(folder: Path) -> tuple[Path, Path]:
    """A PNG of a test digit (dark on light, 280 px), and a file that claims to be a PNG but is not."""
    from PIL import Image

    from inference import load_test_digits

    digit = load_test_digits().gray(3)
    picture = Image.fromarray(((1 - digit) * 255).astype("uint8")).resize((280, 280))
    good, broken = folder / "digit.png", folder / "broken.png"
    buf = io.BytesIO()
    picture.save(buf, format="PNG")
    good.write_bytes(buf.getvalue())
    broken.write_bytes(b"\x89PNG\r\n\x1a\n this is not a picture")
    return good, broken


async def settle(page) -> None:
    await page.wait_for_timeout(200)
    await page.wait_for_selector(RENDERED, timeout=600_000)


async def tour(page, url: str, round_: int, files: tuple[Path, Path], counts: dict, errors: list) -> None:
    async def visit(path: str) -> None:
        await page.goto(f"{url}/{path}")
        await settle(page)
        counts["loads"] += 1
        if await page.locator('[data-testid="stException"]').count():
            errors.append(f"{path}: exception shown")

    for name in PAGES:
        await visit(name + (f"?seed={round_ * 7 + 1}" if name in SEEDED else ""))
    # uploads: a digit, then a broken file (the page says why, and nothing breaks)
    await visit("reconstruct")
    await page.get_by_text("Upload", exact=True).first.click()
    await settle(page)
    for f in files:
        await page.locator('input[type="file"]').set_input_files(str(f))
        await settle(page)
        counts["uploads"] += 1
    # a drawing: a stroke down the middle of the canvas
    await page.get_by_text("Draw", exact=True).first.click()
    await settle(page)
    box = None  # the drawing pad: the page's largest canvas (inside the component's shadow root), once it is there
    for _ in range(120):
        canvases = page.locator("canvas")
        boxes = [b for i in range(await canvases.count()) if (b := await canvases.nth(i).bounding_box())]
        box = max(boxes, key=lambda b: b["width"], default=None)
        if box and box["width"] >= 200:
            break
        await page.wait_for_timeout(500)
    else:
        box = None
        errors.append("reconstruct: no drawing pad")
    if box:
        await page.mouse.move(box["x"] + 140, box["y"] + 40)
        await page.mouse.down()
        for t in range(30):
            await page.mouse.move(box["x"] + 140, box["y"] + 40 + t * 7, steps=2)
        await page.mouse.up()
        await settle(page)
        counts["drawings"] += 1
    await page.get_by_text("Test digit", exact=True).first.click()  # back, for the other pages' digit inputs
    await settle(page)
    # the naive sampler: 4 samples, the whole network per pixel
    await visit(f"sample?model=pixelcnn&seed={round_ + 1}&n=4")
    await page.get_by_text("Naive (whole network per pixel)").first.click()
    await settle(page)
    await page.get_by_role("button", name="the naive way").first.click()
    await settle(page)
    counts["naive"] += 1


async def session(browser, url: str, deadline: float, files, counts: dict, errors: list, first: threading.Event):
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    round_ = 0
    while time.time() < deadline:
        try:
            await tour(page, url, round_, files, counts, errors)
        except Exception as err:  # counted; the session starts its next round on a fresh page
            errors.append(f"{type(err).__name__}: {str(err).splitlines()[0][:160]}")
            await page.close()
            page = await context.new_page()
        round_ += 1
        first.set()
    await context.close()


async def run(url: str, sessions: int, minutes: float, files, counts: dict, errors: list, first) -> None:
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        deadline = time.time() + 60 * minutes
        await asyncio.gather(*[session(browser, url, deadline, files, counts, errors, first) for _ in range(sessions)])
        await browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--sessions", type=int, default=3)
    parser.add_argument("--idle", type=float, nargs="+", default=[10, 140],
                        help="seconds after the sessions left at which to read the server's memory")  # fmt: skip
    args = parser.parse_args()
    files = test_files(Path(tempfile.mkdtemp(prefix="genlab-soak-")))
    proc, url, _ = start_server()
    samples: list[tuple[float, float]] = []
    first_tour, stop = threading.Event(), threading.Event()
    warm: list[float] = []

    def watch() -> None:
        start = time.time()
        while not stop.wait(5):
            samples.append((time.time() - start, rss_mb(proc.pid)))
            if first_tour.is_set() and not warm:
                warm.append(samples[-1][1])

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    counts = {"loads": 0, "uploads": 0, "drawings": 0, "naive": 0}
    errors: list[str] = []
    started = time.time()
    try:
        asyncio.run(run(url, args.sessions, args.minutes, files, counts, errors, first_tour))
    finally:
        stop.set()
        watcher.join()
        end = rss_mb(proc.pid)
        left, idle = time.time(), {}  # the browsers are gone: what the server holds once it has been idle a while
        for wait in sorted(args.idle):
            time.sleep(max(0.0, left + wait - time.time()))
            idle[wait] = rss_mb(proc.pid)
        proc.terminate()
        proc.wait(timeout=30)
    top = max(m for _, m in samples) if samples else end
    w = warm[0] if warm else float("nan")
    print(f"# Soak: {args.sessions} sessions, {(time.time() - started) / 60:.1f} min, {platform.machine()}, "
          f"{os.cpu_count()} cores\n")  # fmt: skip
    print("| resident memory | MB |\n|---|---|")
    print(f"| after the first tour (warm) | {w:.0f} |\n| highest | {top:.0f} |\n| at the end | {end:.0f} |")
    print(f"| growth, warm to end | {end - w:+.0f} |")
    for wait, mb in idle.items():
        print(f"| after the sessions left, {wait:.0f} s idle | {mb:.0f} |")
    print(f"\n{counts['loads']} page loads, {counts['uploads']} uploads, {counts['drawings']} drawings, "
          f"{counts['naive']} naive samplings; {len(errors)} errors")  # fmt: skip
    for e in errors[:10]:
        print("  ", e)
    print("\nminute: MB  " + "  ".join(f"{t / 60:.0f}: {m:.0f}" for t, m in samples[:: max(1, len(samples) // 15)]))


if __name__ == "__main__":
    main()
