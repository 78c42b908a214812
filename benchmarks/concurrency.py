"""Latency of the Sample page with several users at once: N browser sessions against one server.

    python benchmarks/concurrency.py [--sessions 8] [--rounds 2] [--through-nginx N [N ...]]
    python benchmarks/concurrency.py --classroom [--sessions 30] [--pin] [--protocol] [--through-nginx 1 2]

Starts `streamlit run` (or, with --through-nginx, deploy/serve.sh: nginx in front of N replicas, once for
each N given, so `--through-nginx 1 2` compares one replica with two in one run), opens N isolated browser contexts in Debian's chromium (headless),
and has each load the Sample page for every generative model in turn, at once, timing each
load from navigation until the script has finished (the page's script state is notRunning).
Each grid image must equal the one a lone session gets for the same model and seed.
Prints p50/p95 latency for one session alone and for N at once, per server.

--classroom is issue 18's class opening a shared link: each session (one browser, a context each) opens Home,
then the Sample page at a new seed (one of 5), then Reconstruct. Besides the page-ready times the browsers see,
it reads the server's own seconds per script run from the app's run log (GENLAB_RUN_LOG). --pin runs the server
(nginx and its replicas too) on core 0 with taskset and the browsers on the others, as on a small hosted instance.
--protocol replaces the browsers by clients that speak Streamlit's websocket protocol and render nothing (page HTML,
the script run's messages, the pictures): 30 browsers on one core measure mostly themselves, these measure what the
server delivers.
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

import asyncio  # noqa: E402
import tempfile  # noqa: E402

from _server import CHROMIUM, CHROMIUM_ARGS, RENDERED, server_runs, start_served, start_server, stop_served  # noqa: E402
from playwright.async_api import async_playwright  # noqa: E402
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


CLASSROOM_SEEDS = (101, 102, 103, 104, 105)  # "a new seed": not the default, and shared, so pictures can be compared
CLASSROOM_PAGES = {"": "Generative Models Lab", "sample": "Sample", "reconstruct": "Reconstruct"}  # path: title
# Ready: the script has finished, the page's title shows (not the last page's), the Sample page's caption names the
# seed asked for, and every picture has loaded. With 30 browsers on one core, "notRunning" alone is seen before
# the run has even started.
READY = """([title, seed]) => {
  const app = document.querySelector('[data-testid="stApp"]');
  if (!app || app.getAttribute('data-test-script-state') !== 'notRunning') return false;
  const h1 = document.querySelector('h1');
  if (!h1 || !h1.innerText.includes(title)) return false;
  if (seed !== null && !document.body.innerText.includes(`, seed ${seed}: `)) return false;
  return [...document.querySelectorAll('[data-testid="stImage"] img')].every(e => e.complete);
}"""


def classroom_visits(seeds) -> list[tuple[str, int | None]]:
    """What one session of a class opens, in order: (path, seed) for Home, the Sample page at each seed, Reconstruct."""
    return [("", None), *[("sample", s) for s in seeds], ("reconstruct", None)]


async def classroom_session(browser, url: str, seeds, out: dict, images: dict, errors: list) -> None:
    """Home, the Sample page at each seed given, Reconstruct; each page-ready time into out[page]."""
    context = await browser.new_context(viewport={"width": 1200, "height": 900})
    page = await context.new_page()
    try:
        for path, seed in classroom_visits(seeds):
            start = time.perf_counter()
            # commit: the rest of the wait is for the rendered page, however long 30 browsers on a core take to load
            await page.goto(f"{url}/{path}" + (f"?seed={seed}" if seed is not None else ""), wait_until="commit",
                            timeout=600_000)  # fmt: skip
            await page.wait_for_function(READY, arg=[CLASSROOM_PAGES[path], seed], timeout=600_000, polling=100)
            out.setdefault(path or "home", []).append(time.perf_counter() - start)
            if await page.locator('[data-testid="stException"]').count():
                errors.append(f"{path or 'home'}: exception shown")
            if path == "sample":
                src = await page.locator('[data-testid="stImage"] img').first.get_attribute("src", timeout=60_000)
                response = await page.request.get(src if src.startswith("http") else url + src)
                if not response.ok:
                    errors.append(f"sample: picture {response.status}")
                images.setdefault(seed, set()).add(await response.body())
    except Exception as err:  # a timeout, a lost page: counted, and the other sessions go on
        errors.append(f"{type(err).__name__}: {str(err).splitlines()[0]}")
    finally:
        await context.close()


async def protocol_session(url: str, seeds, out: dict, images: dict, errors: list) -> None:
    """As classroom_session, but a client that speaks Streamlit's websocket protocol and renders nothing: for each
    page it fetches the page's HTML (which also gets it nginx's sticky cookie), opens the websocket, asks for the
    page's script run, reads every message until the run has finished, then fetches the pictures the page shows.
    What 30 such clients measure is what the server delivers to 30 users at once, with no browser's own work on
    this machine's cores (the frontend's scripts, which a browser fetches once and caches, are not fetched)."""
    import http.cookiejar
    import urllib.request

    import websockets
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    stream = url.replace("http://", "ws://", 1) + "/_stcore/stream"
    done = (ForwardMsg.FINISHED_SUCCESSFULLY, ForwardMsg.FINISHED_WITH_COMPILE_ERROR)  # not a run cut short by a rerun
    try:
        for path, seed in classroom_visits(seeds):
            start = time.perf_counter()
            query = f"seed={seed}" if seed is not None else ""
            await asyncio.to_thread(
                lambda: opener.open(f"{url}/{path}" + (f"?{query}" if query else ""), timeout=600).read()
            )  # noqa: B023
            cookie = "; ".join(f"{c.name}={c.value}" for c in jar)
            pictures, exception = [], False
            async with websockets.connect(stream, subprotocols=["streamlit"], max_size=None, open_timeout=600,
                                          additional_headers={"Cookie": cookie} if cookie else None) as ws:  # fmt: skip
                ask = BackMsg()
                ask.rerun_script.query_string, ask.rerun_script.page_name = query, path
                await ws.send(ask.SerializeToString())
                while True:
                    msg = ForwardMsg()
                    msg.ParseFromString(await asyncio.wait_for(ws.recv(), timeout=600))
                    kind = msg.WhichOneof("type")
                    if kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
                        element = msg.delta.new_element
                        exception |= element.WhichOneof("type") == "exception"
                        if element.WhichOneof("type") == "imgs":
                            pictures += [i.url for i in element.imgs.imgs]
                    if kind == "script_finished" and msg.script_finished in done:
                        break
                bodies = await asyncio.to_thread(lambda: [opener.open(url + u, timeout=600).read() for u in pictures])  # noqa: B023
            out.setdefault(path or "home", []).append(time.perf_counter() - start)
            if exception:
                errors.append(f"{path or 'home'}: exception shown")
            if path == "sample":
                images.setdefault(seed, set()).add(bodies[0] if bodies else b"")
    except Exception as err:  # a timeout, a lost connection: counted, and the other sessions go on
        errors.append(f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}")


async def classroom(url: str, sessions: int, images: dict, protocol: bool = False) -> tuple[dict, dict, list, float]:
    """One session alone at every seed, then ``sessions`` at once (session i at seed i mod 5): browsers, or
    ``protocol`` clients that render nothing. Returns the page-ready times alone and together, the errors, and when
    the sessions at once started (time.time())."""
    alone, together, errors = {}, {}, []
    seeds = [[CLASSROOM_SEEDS[i % len(CLASSROOM_SEEDS)]] for i in range(sessions)]
    if protocol:
        await protocol_session(url, CLASSROOM_SEEDS, alone, images, errors)
        started = time.time()
        await asyncio.gather(*[protocol_session(url, s, together, images, errors) for s in seeds])
        return alone, together, errors, started
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        await classroom_session(browser, url, CLASSROOM_SEEDS, alone, images, errors)
        started = time.time()
        await asyncio.gather(*[classroom_session(browser, url, s, together, images, errors) for s in seeds])
        await browser.close()
    return alone, together, errors, started


def main_classroom(args, servers) -> None:
    prefix = ("taskset", "-c", "0") if args.pin else ()
    if args.pin:  # the browsers (this process's children) on the other cores
        os.sched_setaffinity(0, set(range(1, os.cpu_count() or 2)) or {0})
    clients = "protocol clients (no rendering)" if args.protocol else "browsers"
    print(f"# Classroom: {args.sessions} sessions at once ({clients}), each Home, Sample at a new seed, Reconstruct; "
          f"{platform.machine()}, {os.cpu_count()} cores, server {'pinned to core 0' if args.pin else 'unpinned'}\n")  # fmt: skip
    images, rows = {}, []
    for name, replicas in servers:
        log = Path(tempfile.mkdtemp(prefix="genlab-runs-")) / "runs.jsonl"
        os.environ["GENLAB_RUN_LOG"] = str(log)
        proc, url, _ = start_served(replicas, prefix) if replicas else start_server(prefix=prefix)
        try:
            alone, together, errors, started = asyncio.run(classroom(url, args.sessions, images, args.protocol))
        finally:
            if replicas:
                stop_served(proc)
            else:
                proc.terminate()
                proc.wait(timeout=30)
        del os.environ["GENLAB_RUN_LOG"]
        rows.append((name, alone, together, server_runs(log, started), errors))
    print(f"| server | page ready, 1 session | page ready, {args.sessions} at once | server's own time per script run, "
          f"{args.sessions} at once | errors |\n|---|---|---|---|---|")  # fmt: skip
    for name, alone, together, runs, errors in rows:
        every = [t for times in together.values() for t in times]
        solo = [t for times in alone.values() for t in times]
        print(f"| {name} | {percentiles(solo)} | {percentiles(every)} | {percentiles(runs, 'runs')} | {len(errors)} |")
    print("\nBy page, at once (page ready):")
    for name, _, together, _, _ in rows:
        print(f"  {name}: " + "; ".join(f"{page} {percentiles(t)}" for page, t in together.items()))
    differing = [k for k, v in images.items() if len(v) != 1]
    print(f"\nseeds whose Sample picture differed between sessions (and servers): {len(differing)} of {len(images)}")
    for *_, errors in rows:
        for e in errors[:5]:
            print("  ", e)


def percentiles(values: list[float], what: str = "page loads") -> str:
    if len(values) < 2:
        return f"{len(values)} {what}"
    q = statistics.quantiles(values, n=20)
    return f"p50 {statistics.median(values):.2f} s, p95 {q[18]:.2f} s ({len(values)} {what})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=None, help="default: 8, or 30 with --classroom")
    parser.add_argument("--classroom", action="store_true", help="Home, Sample at a new seed, Reconstruct")
    parser.add_argument("--pin", action="store_true", help="server on core 0 (taskset), browsers on the others")
    parser.add_argument("--protocol", action="store_true",
                        help="with --classroom: clients that speak Streamlit's websocket protocol and render nothing")  # fmt: skip
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--through-nginx", type=int, nargs="+", metavar="N",
                        help="through nginx in front of N replicas (deploy/serve.sh), for each N given; 0: streamlit alone")  # fmt: skip
    args = parser.parse_args()
    models = [n for n, e in scan().items() if e.available and e.capabilities.generative]
    servers = [
        (f"nginx, {n} replica{'s' * (n > 1)}" if n else "streamlit alone", n) for n in args.through_nginx or []
    ] or [("streamlit", 0)]
    if args.classroom:
        args.sessions = args.sessions or 30
        main_classroom(args, servers)
        return
    args.sessions = args.sessions or 8
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
