"""onnxruntime sessions: the CPU provider named explicitly, a bounded thread count.

The models here are small: more than a few threads per session only adds contention
when several sessions (and several users of a hosted app) share a machine.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import hashlib
import json
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import onnxruntime as ort
from onnxruntime.capi import onnxruntime_pybind11_state as ort_errors

PROVIDERS = ["CPUExecutionProvider"]
# onnxruntime's load errors derive from Exception directly; these are the ones a bad file raises.
ORT_LOAD_ERRORS = (
    ort_errors.Fail,
    ort_errors.InvalidArgument,
    ort_errors.InvalidProtobuf,
    ort_errors.InvalidGraph,
    ort_errors.NoSuchFile,
    ort_errors.NotImplemented,
    ort_errors.RuntimeException,
)


def default_threads() -> int:
    """GENLAB_THREADS if set, else up to 4 threads, leaving a core free on bigger machines."""
    env = os.environ.get("GENLAB_THREADS")
    if env and env.isdigit() and int(env) > 0:
        return int(env)
    return max(1, min(4, (os.cpu_count() or 1)))


class ModelFileError(RuntimeError):
    """An exported file is missing, corrupt or does not match its model card."""


MAX_BATCH = 256  # rows per onnxruntime call; bounds every session's memory arena


# (path, size, mtime) -> sha256: each file is hashed once per process, however often it is checked or loaded
_hashes: dict[tuple[str, int, int], str] = {}
_hashes_lock = threading.Lock()


def _sha256(path: Path) -> str:
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    with _hashes_lock:
        known = _hashes.get(key)
    if known is None:
        known = hashlib.sha256(path.read_bytes()).hexdigest()
        with _hashes_lock:
            _hashes[key] = known
    return known


def check_file(path: Path, expected_sha256: str, role: str = "") -> None:
    """ModelFileError unless the file is there and matches its card's sha256."""
    path = Path(path)
    what = f"its {role} file {path.name}" if role else path.name
    if not path.is_file():
        raise ModelFileError(f"{what} is missing")
    if _sha256(path) != expected_sha256:
        raise ModelFileError(f"{what} does not match the sha256 in its card (changed or corrupt)")


def load_network(folder: Path, spec, threads: int | None = None, role: str = "") -> Network:
    """The one way a network listed in a card is loaded: the file checked against its sha256, and its
    input and output names against the card's (``spec``: an inference.cards.NetworkSpec)."""
    net = Network(Path(folder) / spec.file, spec.sha256, threads, role)
    if (net.input_names, net.output_names) != (spec.input_names, spec.output_names):
        raise ModelFileError(
            f"{spec.file} has inputs/outputs {net.input_names}/{net.output_names}, "
            f"its card says {spec.input_names}/{spec.output_names}"
        )
    return net


class Network:
    """One ONNX graph: named float32 inputs in, a dict of named outputs back."""

    def __init__(self, path: Path, expected_sha256: str | None = None, threads: int | None = None, role: str = ""):
        path = Path(path)
        if expected_sha256 is not None:
            check_file(path, expected_sha256, role)
        elif not path.is_file():
            raise ModelFileError(f"{path.name} is missing")
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or default_threads()
        options.inter_op_num_threads = 1
        # No arena: a session's scratch memory goes back after each run instead of staying at its peak
        # (with ~40 sessions in one server process, the arenas alone grew past 4 GB).
        options.enable_cpu_mem_arena = False
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3  # errors only: warnings would land in the app's log
        try:
            # From the path, not the file's bytes: a session made from bytes keeps them for as long as it lives
            # (onnxruntime's Python wrapper holds them, in case it has to remake the session), 40 MB of ONNX files
            # held twice in a server that had used every page.
            self.session = ort.InferenceSession(str(path), options, providers=PROVIDERS)
        except ORT_LOAD_ERRORS as err:
            raise ModelFileError(f"{path.name} is not a valid ONNX model ({type(err).__name__}: {err})") from err
        self.path = path
        self.input_names = [i.name for i in self.session.get_inputs()]
        self.output_names = [o.name for o in self.session.get_outputs()]

    def __call__(self, *inputs: np.ndarray) -> dict[str, np.ndarray]:
        """Run the graph; a batch larger than MAX_BATCH runs in slices, so that no call (500 test digits
        through a PixelCNN, 25,000 importance samples through a decoder) holds every activation at once:
        onnxruntime keeps its arena at the largest size a session ever needed."""
        arrays = [np.ascontiguousarray(x, dtype=np.float32) for x in inputs]
        n = len(arrays[0]) if arrays and arrays[0].ndim else 0
        if n <= MAX_BATCH or any(a.ndim == 0 or len(a) != n for a in arrays):
            outputs = self.session.run(None, dict(zip(self.input_names, arrays, strict=True)))
            return dict(zip(self.output_names, outputs, strict=True))
        parts = [self.session.run(None, {k: a[s : s + MAX_BATCH] for k, a in zip(self.input_names, arrays, strict=True)})
                 for s in range(0, n, MAX_BATCH)]  # fmt: skip
        return {name: np.concatenate([p[i] for p in parts]) for i, name in enumerate(self.output_names)}


def _glibc_function(name: str):
    try:
        return getattr(_LIBC, name)
    except AttributeError:  # not glibc (macOS, musl): nothing to call
        return None


try:
    _LIBC = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")  # looked up once, not on every script run
except OSError:
    _LIBC = None
_MALLOC_TRIM = _glibc_function("malloc_trim")
_MALLOPT = _glibc_function("mallopt")
# glibc's mallopt parameters, and the MALLOC_*_ variables that set them at start (which the app leaves as they are)
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD, M_ARENA_MAX = -1, -3, -8
MALLOC_SETTINGS = {  # parameter: (its environment variable, the app's value)
    M_ARENA_MAX: ("MALLOC_ARENA_MAX", 2),
    M_MMAP_THRESHOLD: ("MALLOC_MMAP_THRESHOLD_", 1 << 20),  # blocks of 1 MB up: mapped alone, unmapped when freed
    M_TRIM_THRESHOLD: ("MALLOC_TRIM_THRESHOLD_", 4 << 20),  # a heap's free top past 4 MB goes back on a free
}


def tune_malloc() -> list[str]:
    """Keep glibc's malloc from holding on to freed memory in a long-lived, many-threaded server.

    Three defaults add up in a Streamlit server, which runs every script run in a new thread. Each thread may get a
    heap of its own (up to 8 per core), and a freed block stays in the heap that made it. glibc raises its mmap
    threshold to the largest block freed (up to 32 MB), so arrays that were mapped alone and returned on free come
    from those heaps instead; and a thread heap's free top is given back only past a trim threshold that rises with
    it, and never by malloc_trim. After three browser sessions had toured every page the server held 703 MB in 16
    heaps; with MALLOC_ARENA_MAX=2 in its environment, 398 MB. The heap limit must come before the server starts
    its threads (glibc fixes the limit once there are more than 8 heaps, and a server has 8 before its first script
    run): deploy/serve.sh and the Dockerfile set it. From here, on a host that runs ``streamlit run`` itself, the
    fixed thresholds still apply to every heap: 421 MB after the same tour, in 16 heaps. They cost the heaviest
    interactions 1-18% more time (benchmarks/malloc.py). Settings given in the environment are left alone. Returns
    the variables set (none where the C library is not glibc); called on every script run, it sets them once."""
    global _tuned
    if _MALLOPT is None or _tuned is not None:
        return _tuned or []
    _tuned = [
        env for param, (env, value) in MALLOC_SETTINGS.items() if not os.environ.get(env) and _MALLOPT(param, value)
    ]
    return _tuned


_tuned: list[str] | None = None


def memory_budget_mb() -> float:
    """GENLAB_MEMORY_BUDGET_MB if set, else 400 (issue 18's target for one server): above this resident size, freed
    memory goes back to the system once the server has been idle IDLE_TRIM_SECONDS. The wait is what lets the budget
    be this low: trimming after every run, at 450, had made the median load with 8 sessions at once rise from
    5.1-6.8 s to 8.2-8.6 s, since each trim made the next runs fault their memory in again."""
    env = os.environ.get("GENLAB_MEMORY_BUDGET_MB", "")
    return float(env) if env.replace(".", "", 1).isdigit() else 400.0


def resident_mb() -> float | None:
    """This process's resident memory in MB (Linux), else None."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError):
        return None


def release_free_memory(budget_mb: float | None = None) -> bool:
    """Above budget_mb resident, hand the heap Python has freed back to the system (glibc's malloc_trim).

    glibc keeps freed blocks in per-thread arenas for reuse, and Streamlit runs each script run in
    its own thread: after every page had been visited the server held ~590 MB, ~190 MB of it freed.
    Only above the budget, because a trim is not free: the next runs fault their scratch memory in
    again. Returns whether it trimmed; a no-op where the C library is not glibc."""
    budget_mb = memory_budget_mb() if budget_mb is None else budget_mb
    rss = resident_mb()
    if _MALLOC_TRIM is None or rss is None or rss <= budget_mb:
        return False
    _MALLOC_TRIM(0)
    return True


IDLE_TRIM_SECONDS = 2.0  # how long the server must have run no script before it hands freed memory back
_active_runs = 0
_runs_started = 0  # every run started so far: a trim scheduled at idle is off if another began since
_active_lock = threading.Lock()


def _trim_if_still_idle(started: int) -> None:
    with _active_lock:
        if _active_runs or _runs_started != started:
            return
    # A full collection here rather than after every run (.streamlit/config.toml: runner.postScriptGC = false), where
    # it cost ~0.09 s a page: cyclic garbage goes before the trim hands the freed memory back.
    gc.collect()
    release_free_memory()


def _trim_when_idle(started: int) -> None:
    """Collect garbage and release free memory once the server has stayed idle IDLE_TRIM_SECONDS: a burst of runs
    (a class clicking) is not slowed by collections and trims between its runs, and the memory goes back when the
    burst is over."""
    timer = threading.Timer(IDLE_TRIM_SECONDS, _trim_if_still_idle, args=(started,))
    timer.daemon = True
    timer.start()


def run_log_path() -> str | None:
    """GENLAB_RUN_LOG: a file to which every script run appends one JSON line (when it started, the page, its
    seconds start to finish, how it ended, the process), for benchmarks/concurrency.py; unset: nothing logged."""
    return os.environ.get("GENLAB_RUN_LOG") or None


def _log_run(page: str, started: float, seconds: float, outcome: str) -> None:
    path = run_log_path()
    if path is None:
        return
    line = json.dumps({"start": round(started, 4), "page": page, "seconds": round(seconds, 4), "outcome": outcome,
                       "pid": os.getpid()})  # fmt: skip
    try:
        with open(path, "a") as f:  # one short line a write: whole lines, even from several replicas
            f.write(line + "\n")
    except OSError:
        pass  # a log that cannot be written must not break the page


@contextmanager
def script_run(page: str = "") -> Iterator[None]:
    """Wraps one script run of the app (``page``: its name, for the run log); when the last run to finish leaves
    the server idle, free memory above the budget goes back to the system if no run starts within
    IDLE_TRIM_SECONDS (while runs are going, a trim would make them fault their memory in again)."""
    global _active_runs, _runs_started
    with _active_lock:
        _active_runs += 1
        _runs_started += 1
    started, wall = time.perf_counter(), time.time()
    outcome = "ok"
    try:
        yield
    except BaseException as err:  # Streamlit ends a run early with its own exceptions (a rerun, a stop)
        outcome = type(err).__name__
        raise
    finally:
        _log_run(page, wall, time.perf_counter() - started, outcome)
        with _active_lock:
            _active_runs -= 1
            idle, started = _active_runs == 0, _runs_started
        if idle:
            _trim_when_idle(started)
