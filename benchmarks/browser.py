"""The Live page in headless chromium: the browser's times for each live interaction, beside the server's for the
same interaction, measured in the same run.

    python benchmarks/browser.py [--drag-seconds 3] [--strokes 10]

Browser side (onnxruntime-web 1.18, WASM, one thread, in the page's own component): one 2-d latent point decoded
and drawn, updates per second while the pointer drags over the plane, the draw pad's update after a stroke ends,
16 PixelCNN samples drawn row by row, and the first model ready after the page starts loading (for the server's
first visitor; for a new visitor, with an empty browser cache; for that visitor coming back). Server side: the
same computations through onnxruntime in this process, and the same interactions through the page's server path
(?on_server=true) in the same browser, where each one is a script rerun.
Prints a table; nothing passes or fails.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _server import CHROMIUM, CHROMIUM_ARGS, RENDERED, RUN_LOG, component_frame, start_server  # noqa: E402
from _timing import median_seconds  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

from inference import images as img  # noqa: E402
from inference import live, load_model  # noqa: E402


def open_live(context, url: str, query: str):
    """Open the Live page; (page, frame, seconds from navigation to the first model ready, to the view ready)."""
    pg = context.new_page()
    start = time.time()
    pg.goto(f"{url}/live?{query}")
    frame = component_frame(pg)
    frame.wait_for_function("() => window.genlab.ready", timeout=120_000)
    first, ready = frame.evaluate("() => [window.genlab.runtime.firstReadyAt, window.genlab.readyAt]")
    return pg, frame, first / 1000 - start, ready / 1000 - start


def after_run(pg, act) -> float:
    """Seconds from an action in the page to the end of the script run it causes."""
    pg.evaluate("() => { window.runEnds.length = 0; }")
    t0 = pg.evaluate("() => performance.now()")
    act()
    pg.wait_for_function("() => window.runEnds.length > 0", timeout=120_000)
    pg.wait_for_selector(RENDERED, timeout=120_000)
    return (pg.evaluate("() => window.runEnds[0]") - t0) / 1000


def drag(pg, frame, seconds: float, rate_hz: float = 120.0) -> tuple[float, float]:
    """Drag over the plane in circles for ``seconds``, pointer moves paced at rate_hz; (moves/s, updates/s)."""
    box = frame.locator("canvas.overlay").bounding_box()
    cx, cy, r = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2, box["width"] * 0.35
    pg.mouse.move(cx + r, cy)
    pg.mouse.down()
    decodes = frame.evaluate("() => window.genlab.stats.latentDecodes")
    start = time.perf_counter()
    moves = 0
    while (elapsed := time.perf_counter() - start) < seconds:
        angle = 2 * np.pi * elapsed / 1.5
        pg.mouse.move(cx + r * np.cos(angle), cy + r * np.sin(angle))
        moves += 1
        time.sleep(max(0.0, moves / rate_hz - (time.perf_counter() - start)))
    pg.mouse.up()
    elapsed = time.perf_counter() - start
    updates = frame.evaluate("() => window.genlab.stats.latentDecodes") - decodes
    return moves / elapsed, updates / elapsed


def stroke(pg, box, points, steps: int = 10) -> None:
    pg.mouse.move(box["x"] + points[0][0], box["y"] + points[0][1])
    pg.mouse.down()
    for (x0, y0), (x1, y1) in zip(points, points[1:], strict=False):
        for t in np.linspace(0, 1, steps)[1:]:
            pg.mouse.move(box["x"] + x0 + t * (x1 - x0), box["y"] + y0 + t * (y1 - y0))
    pg.mouse.up()


STROKES = [
    [(140, 40), (140, 240)],
    [(70, 60), (210, 60), (120, 240)],
    [(90, 50), (70, 160), (200, 160)],
    [(100, 80), (180, 80), (100, 220), (190, 220)],
    [(120, 50), (170, 140), (110, 240)],
]


def median_ms(values) -> float:
    return 1000 * statistics.median(values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--drag-seconds", type=float, default=3.0)
    parser.add_argument("--strokes", type=int, default=10)
    args = parser.parse_args()
    chromium = subprocess.run([CHROMIUM, "--version"], capture_output=True, text=True).stdout.strip()
    load_before = os.getloadavg()[0]
    proc, url, _ = start_server()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)

            # ---- the browser: first model ready for the server's first visitor, then for a new visitor (an
            # empty browser cache, the server's caches warm), then for that visitor coming back ---------------
            first_context = browser.new_context(viewport={"width": 1400, "height": 1400})
            pg, frame, server_cold_first, _ = open_live(first_context, url, "view=latent")
            first_context.close()
            context = browser.new_context(viewport={"width": 1400, "height": 1400})
            pg, frame, cold_first, cold_ready = open_live(context, url, "view=latent")
            pg.close()
            pg, frame, warm_first, warm_ready = open_live(context, url, "view=latent")
            pg.evaluate(RUN_LOG)

            # ---- the latent plane -------------------------------------------------------------------------------
            frame.evaluate("() => { window.genlab.stats.latentMs.length = 0; }")
            moves_per_s, updates_per_s = drag(pg, frame, args.drag_seconds)
            decode_ms = statistics.median(frame.evaluate("() => window.genlab.stats.latentMs"))
            drag_reruns = len(pg.evaluate("() => window.runStarts"))

            # ---- the draw pad -----------------------------------------------------------------------------------
            pg.get_by_text("Draw pad", exact=True).click()
            frame.wait_for_function("() => window.genlab.viewName === 'draw' && window.genlab.ready", timeout=60_000)
            frame.wait_for_timeout(1500)  # the view's warm-up analysis
            pg.evaluate("() => { window.runStarts.length = 0; }")
            box = frame.locator("canvas.pad").bounding_box()
            for k in range(args.strokes):
                if k % len(STROKES) == 0:
                    frame.get_by_role("button", name="Clear").click()
                updates = frame.evaluate("() => window.genlab.stats.padUpdates || 0")
                stroke(pg, box, STROKES[k % len(STROKES)])
                frame.wait_for_function(f"() => (window.genlab.stats.padUpdates || 0) > {updates}", timeout=30_000)
            pad_ms = statistics.median(frame.evaluate("() => window.genlab.stats.padMs")[-args.strokes :])
            draw_reruns = len(pg.evaluate("() => window.runStarts"))
            drawn = frame.evaluate("() => window.genlab.view.test.draw([[[70, 60], [210, 60], [120, 240]]])")

            # ---- the samplers -----------------------------------------------------------------------------------
            pg.get_by_text("Samplers", exact=True).click()
            frame.wait_for_function("() => (window.genlab.stats.arSamples || 0) >= 1", timeout=120_000)
            pixelcnn_s = [frame.evaluate("() => window.genlab.stats.sampleSeconds['PixelCNN']")]
            for _ in range(2):
                frame.evaluate("() => window.genlab.view.test.sampleAutoregressive()")
                pixelcnn_s.append(frame.evaluate("() => window.genlab.stats.sampleSeconds['PixelCNN']"))
            pg.close()

            # ---- the same interactions on the server path ------------------------------------------------------
            server = context.new_page()
            start = time.time()
            server.goto(f"{url}/live?view=latent&on_server=true")
            server.get_by_text("decoded on the server").first.wait_for(timeout=120_000)
            server_first_image = time.time() - start
            server.wait_for_selector(RENDERED)
            server.evaluate(RUN_LOG)
            slider = server.get_by_role("slider").first
            slider.focus()
            slide = [after_run(server, lambda: slider.press("ArrowRight")) for _ in range(5)]

            server.goto(f"{url}/live?view=draw&on_server=true")
            server.wait_for_selector(RENDERED)
            server.get_by_text("Draw one digit").first.wait_for(timeout=60_000)
            server.evaluate(RUN_LOG)
            canvas = max(server.locator("canvas").all(), key=lambda c: (c.bounding_box() or {"width": 0})["width"])
            canvas_box = canvas.bounding_box()
            server_strokes = []
            for k in range(5):
                server_strokes.append(after_run(server, lambda k=k: stroke(server, canvas_box, STROKES[k])))

            server.goto(f"{url}/live?view=samplers&on_server=true")
            server.wait_for_selector(RENDERED, timeout=120_000)
            server.evaluate(RUN_LOG)
            seed_box = server.get_by_label("Seed", exact=True)
            reseed = []
            for seed in (1, 2, 3):
                reseed.append(after_run(server, lambda seed=seed: (seed_box.fill(str(seed)), seed_box.press("Enter"))))
            browser.close()
    finally:
        proc.terminate()

    # ---- the server's own compute, in this process, on the same inputs ------------------------------------------
    vae2d, pixelcnn = load_model("vae2d"), load_model("pixelcnn")
    z = np.array([[0.5, -1.0]], np.float32)
    server_decode_s = median_seconds(lambda: vae2d.decode(z), 200)
    import base64

    rgba = np.frombuffer(base64.b64decode(drawn["rgba"]), np.uint8).reshape(280, 280, 4)
    pad_models = [load_model(n) for n in ("ae", "vae", "classifier", "pixelcnn")]
    server_pad_s = median_seconds(lambda: live.pad_figures(img.drawing_digit(rgba).image, *_pad(pad_models)), 20)
    server_sample_s = median_seconds(lambda: pixelcnn.sample(16, 3), 3)

    print(
        f"# The Live page, {time.strftime('%Y-%m-%d')}: {platform.machine()}, {os.cpu_count()} cores, {chromium} "
        f"headless; load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after\n"
    )
    print("| interaction | target | in the browser (onnxruntime-web, WASM) | server: onnxruntime in Python | server path in the app (a script rerun) |")  # fmt: skip
    print("|---|---|---|---|---|")
    print(f"| one 2-d latent point decoded and drawn (median) | <= 5 ms | {decode_ms:.2f} ms | {1000 * server_decode_s:.2f} ms (decode only) | {median_ms(slide):.0f} ms per slider step |")  # fmt: skip
    print(f"| updates while dragging over the plane | >= 30 /s | {updates_per_s:.0f} /s ({moves_per_s:.0f} pointer moves/s sent) | | {1 / statistics.median(slide):.1f} /s (one rerun each) |")  # fmt: skip
    print(f"| draw pad: update after a stroke ends (median of {args.strokes}) | <= 50 ms | {pad_ms:.0f} ms | {1000 * server_pad_s:.0f} ms (preprocess + 5 networks) | {median_ms(server_strokes):.0f} ms |")  # fmt: skip
    print(f"| 16 PixelCNN samples, fast sampler (median of 3) | <= 1 s | {statistics.median(pixelcnn_s):.2f} s (rows drawn as they finish) | {server_sample_s:.2f} s | {statistics.median(reseed):.2f} s per seed (both autoregressive models and 3 latent ones) |")  # fmt: skip
    print(f"| first model ready after the page starts loading | <= 3 s | {cold_first:.2f} s new visitor (empty browser cache), {warm_first:.2f} s returning (whole view: {cold_ready:.2f} s, {warm_ready:.2f} s); {server_cold_first:.2f} s for the first visitor after the server starts | | {server_first_image:.2f} s to the first decoded digit |")  # fmt: skip
    print(f"| server script reruns while dragging / drawing | 0 | {drag_reruns} / {draw_reruns} | | one per slider step or stroke |")  # fmt: skip


def _pad(models):
    ae, vae, judge, pixelcnn = models
    return [ae, vae], judge, pixelcnn


if __name__ == "__main__":
    main()
