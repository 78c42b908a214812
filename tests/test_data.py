"""The data rules every figure in the project depends on: split, binarization, loaders."""

import gzip

import numpy as np
import pytest

from training import data as data_lib


@pytest.fixture(scope="module")
def mnist():
    return data_lib.load("mnist5k")


def test_mnist5k_split_sizes_and_balance(mnist):
    assert mnist.train.images.shape == (4050, 28, 28)
    assert mnist.validation.images.shape == (450, 28, 28)
    assert mnist.test.images.shape == (500, 28, 28)
    assert mnist.train.images.dtype == np.uint8
    assert np.bincount(mnist.train.labels).tolist() == [405] * 10
    assert np.bincount(mnist.validation.labels).tolist() == [45] * 10
    assert np.bincount(mnist.test.labels).tolist() == [50] * 10


def test_mnist5k_split_is_405_45_50_per_class_in_file_order(mnist):
    table = np.loadtxt(gzip.open(data_lib.mnist5k_path(), "rt"), delimiter=",")
    images, labels = table[:, :-1].reshape(-1, 28, 28).astype(np.uint8), table[:, -1].astype(int)
    for c in (0, 7):
        idx = np.flatnonzero(labels == c)
        np.testing.assert_array_equal(mnist.train.images[mnist.train.labels == c], images[idx[:405]])
        np.testing.assert_array_equal(mnist.validation.images[mnist.validation.labels == c], images[idx[405:450]])
        np.testing.assert_array_equal(mnist.test.images[mnist.test.labels == c], images[idx[450:]])


def test_the_test_split_is_the_one_the_app_ships(mnist):
    """Carving validation out of train left the 500 test digits, and their order, as they were."""
    with np.load(data_lib.Path(__file__).resolve().parent.parent / "exported" / "mnist_test.npz") as shipped:
        np.testing.assert_array_equal(shipped["images"], mnist.test.images)
        np.testing.assert_array_equal(shipped["labels"], mnist.test.labels)


def test_validation_has_its_own_fixed_binarization(mnist):
    val = data_lib.binarize_fixed(mnist.validation.images, data_lib.VALIDATION_BINARIZATION_SEED)
    expected = np.random.default_rng(1).random(mnist.validation.images.shape) < mnist.validation.images / 255
    np.testing.assert_array_equal(val, expected)
    assert data_lib.VALIDATION_BINARIZATION_SEED != data_lib.TEST_BINARIZATION_SEED


def test_limit_takes_a_class_balanced_subset(mnist):
    idx = data_lib.balanced_first(mnist.train.labels, 100)
    assert np.bincount(mnist.train.labels[idx], minlength=10).tolist() == [10] * 10
    idx = data_lib.balanced_first(mnist.train.labels, 25)
    assert len(idx) == 25 and np.bincount(mnist.train.labels[idx], minlength=10).max() == 3
    # within a class, the first images in file order
    zeros = np.flatnonzero(mnist.train.labels == 0)
    assert set(idx) & set(zeros) == set(zeros[:3])


def test_fixed_binarization_is_the_documented_rule(mnist):
    binary = data_lib.binarize_fixed(mnist.test.images)
    expected = np.random.default_rng(0).random(mnist.test.images.shape) < mnist.test.images / 255
    np.testing.assert_array_equal(binary, expected)
    assert set(np.unique(binary)) == {0, 1}
    # Each pixel is on with probability intensity/255: the means must agree closely.
    assert abs(binary.mean() - mnist.test.images.mean() / 255) < 0.005
    np.testing.assert_array_equal(binary, data_lib.binarize_fixed(mnist.test.images))  # reproducible


def test_digits_loader():
    ds = data_lib.load("digits")
    assert ds.image_size == 8
    assert len(ds.train) + len(ds.validation) + len(ds.test) == 1797
    assert set(np.unique(ds.test.labels)) == set(range(10)) == set(np.unique(ds.validation.labels))
    assert ds.train.images.max() == 255


def write_idx_folder(folder, n_train=12, n_test=5, gz=True):
    rng = np.random.default_rng(1)
    suffix = ".gz" if gz else ""
    arrays = {
        "train-images-idx3-ubyte": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "train-labels-idx1-ubyte": rng.integers(0, 10, n_train, dtype=np.uint8),
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "t10k-labels-idx1-ubyte": rng.integers(0, 10, n_test, dtype=np.uint8),
    }
    for stem, array in arrays.items():
        data_lib.write_idx(folder / f"{stem}{suffix}", array)
    return arrays


@pytest.mark.parametrize("gz", [True, False])
def test_idx_loader_round_trip(tmp_path, gz):
    arrays = write_idx_folder(tmp_path, n_train=200, gz=gz)
    ds = data_lib.load(f"idx:{tmp_path}")
    assert len(ds.train) + len(ds.validation) == 200 and len(ds.validation) >= 10
    rows = {bytes(im) for im in arrays["train-images-idx3-ubyte"]}
    assert {bytes(im) for im in ds.train.images} | {bytes(im) for im in ds.validation.images} == rows
    np.testing.assert_array_equal(ds.test.labels, arrays["t10k-labels-idx1-ubyte"])
    assert ds.image_size == 28


def test_idx_missing_file_names_it(tmp_path):
    write_idx_folder(tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(data_lib.DataError, match="t10k-labels-idx1-ubyte"):
        data_lib.load(f"idx:{tmp_path}")


def test_idx_corrupt_files_are_explained(tmp_path):
    write_idx_folder(tmp_path, gz=False)
    path = tmp_path / "train-images-idx3-ubyte"
    raw = path.read_bytes()
    path.write_bytes(raw[:-10])  # truncated
    with pytest.raises(data_lib.DataError, match="train-images-idx3-ubyte.*header says shape"):
        data_lib.load(f"idx:{tmp_path}")
    path.write_bytes(b"\x00\x00\x08\x01" + raw[4:])  # a labels magic number on an images file
    with pytest.raises(data_lib.DataError, match="magic number"):
        data_lib.load(f"idx:{tmp_path}")


def test_idx_corrupt_gzip_is_explained(tmp_path):
    write_idx_folder(tmp_path, gz=True)
    (tmp_path / "train-labels-idx1-ubyte.gz").write_bytes(b"this is not gzip")
    with pytest.raises(data_lib.DataError, match="train-labels-idx1-ubyte.gz.*cannot be read"):
        data_lib.load(f"idx:{tmp_path}")


def test_missing_folder_and_unknown_spec(tmp_path):
    with pytest.raises(data_lib.DataError, match="not a folder"):
        data_lib.load(f"idx:{tmp_path / 'nowhere'}")
    with pytest.raises(data_lib.DataError, match="unknown data set"):
        data_lib.load("cifar10")


def test_corrupt_mnist5k_file_is_explained(tmp_path):
    bad = tmp_path / "mnist_5k.csv.gz"
    bad.write_bytes(b"garbage")
    with pytest.raises(data_lib.DataError, match="mnist_5k.csv.gz"):
        data_lib.load_mnist5k(bad)
    with pytest.raises(data_lib.DataError, match="file not found"):
        data_lib.load_mnist5k(tmp_path / "absent.csv.gz")
