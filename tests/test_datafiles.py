"""check_dataset_files on the shared datasets and on damaged copies of them in tmp_path."""

import os
import random
import re
import shutil
import struct

import pytest

from mnistperf import datafiles
from mnistperf.datafiles import (
    FOLDERS, KNOWN_SHA256, RAW_FILES, DataFileError, check_dataset_files,
)

TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS = RAW_FILES
RESTORE = ("restore the original file (mnistperf.datafiles.KNOWN_SHA256 lists the expected "
           "SHA-256)")


@pytest.fixture
def copy_raw(tmp_path, data_root):
    """copy_raw(dataset, folder=None) -> tmp_path/<folder>/raw holding fresh copies to damage."""

    def copy(dataset, folder=None):
        dst = tmp_path / (folder or FOLDERS[dataset]) / "raw"
        dst.mkdir(parents=True)
        for name in RAW_FILES:
            # copyfile, not copy: the shared files are read-only and the copies get written.
            shutil.copyfile(data_root / FOLDERS[dataset] / "raw" / name, dst / name)
        return dst

    return copy


def problem(dataset, root) -> str:
    with pytest.raises(DataFileError) as info:
        check_dataset_files(dataset, root)
    message = str(info.value)
    assert "\n" not in message
    return message


def patch(path, offset, data: bytes):
    with open(path, "r+b") as f:
        f.seek(offset)
        f.write(data)


@pytest.mark.parametrize("dataset", ["mnist", "fashion"])
def test_shared_files_pass_without_warnings(data_root, dataset):
    assert check_dataset_files(dataset, data_root) == []
    assert check_dataset_files(dataset, str(data_root)) == []


def test_known_digests_are_the_ones_in_the_datasets_readme(data_root):
    listed = dict(reversed(line.split()) for line in (data_root / "README.md").read_text()
                  .splitlines() if re.fullmatch(r"[0-9a-f]{64}  \S+", line))
    assert len(listed) == 8
    for dataset, folder in FOLDERS.items():
        for name in RAW_FILES:
            assert KNOWN_SHA256[dataset][name] == {listed[f"{folder}/raw/{name}"]}


def test_images_file_cut_in_half(copy_raw, tmp_path):
    raw = copy_raw("fashion")
    os.truncate(raw / TRAIN_IMAGES, 47040016 // 2)
    assert problem("fashion", tmp_path) == (
        f"{raw / TRAIN_IMAGES}: header says 60000 images of 28x28 = 47040016 bytes but the "
        f"file has 23520008 bytes (cut short?); {RESTORE}")


def test_labels_file_cut_in_half(copy_raw, tmp_path):
    raw = copy_raw("mnist")
    os.truncate(raw / TRAIN_LABELS, 60008 // 2)
    assert problem("mnist", tmp_path) == (
        f"{raw / TRAIN_LABELS}: header says 60000 labels = 60008 bytes but the file has "
        f"30004 bytes (cut short?); {RESTORE}")


def test_trailing_bytes_are_refused(copy_raw, tmp_path):
    raw = copy_raw("fashion")
    with open(raw / TEST_IMAGES, "ab") as f:
        f.write(b"\0" * 5)
    assert problem("fashion", tmp_path) == (
        f"{raw / TEST_IMAGES}: header says 10000 images of 28x28 = 7840016 bytes but the "
        f"file has 7840021 bytes (extra bytes at the end?); {RESTORE}")


def test_wrong_magic_names_found_and_expected(copy_raw, tmp_path):
    raw = copy_raw("fashion")
    patch(raw / TEST_IMAGES, 0, struct.pack(">I", 2049))
    assert problem("fashion", tmp_path) == (
        f"{raw / TEST_IMAGES}: wrong magic number 2049 (0x00000801) (the labels magic: files "
        f"swapped?), expected 2051 (0x00000803) for IDX images; {RESTORE}")


def test_random_bytes(copy_raw, tmp_path):
    raw = copy_raw("fashion")
    junk = random.Random(0).randbytes(10008)
    (raw / TEST_LABELS).write_bytes(junk)
    magic = int.from_bytes(junk[:4], "big")
    assert magic not in (2049, 2051)
    assert problem("fashion", tmp_path) == (
        f"{raw / TEST_LABELS}: wrong magic number {magic} (0x{magic:08x}), expected 2049 "
        f"(0x00000801) for IDX labels; {RESTORE}")


def test_zero_byte_file(copy_raw, tmp_path):
    raw = copy_raw("mnist")
    os.truncate(raw / TEST_IMAGES, 0)
    assert problem("mnist", tmp_path) == (
        f"{raw / TEST_IMAGES}: the file is empty (0 bytes); {RESTORE}")


def test_file_shorter_than_header(copy_raw, tmp_path):
    raw = copy_raw("mnist")
    os.truncate(raw / TEST_IMAGES, 10)
    assert problem("mnist", tmp_path) == (
        f"{raw / TEST_IMAGES}: 10 bytes is shorter than the 16-byte IDX header; {RESTORE}")


def test_images_not_28x28(copy_raw, tmp_path):
    raw = copy_raw("mnist")
    patch(raw / TEST_IMAGES, 8, struct.pack(">II", 32, 32))
    assert problem("mnist", tmp_path) == (
        f"{raw / TEST_IMAGES}: header says 32x32 images, expected 28x28; {RESTORE}")


def test_counts_disagree_names_both_files(copy_raw, tmp_path):
    raw = copy_raw("fashion")
    labels = (raw / TEST_LABELS).read_bytes()
    (raw / TEST_LABELS).write_bytes(struct.pack(">II", 2049, 300) + labels[8:308])
    assert problem("fashion", tmp_path) == (
        f"{raw / TEST_LABELS}: 300 labels but t10k-images-idx3-ubyte has 10000 images; "
        f"{RESTORE}")


def test_label_out_of_range_names_index_and_value(copy_raw, tmp_path):
    raw = copy_raw("mnist")
    patch(raw / TRAIN_LABELS, 8 + 123, bytes([200]))
    patch(raw / TRAIN_LABELS, 8 + 456, bytes([10]))
    assert problem("mnist", tmp_path) == (
        f"{raw / TRAIN_LABELS}: label 200 at index 123 is outside 0..9; {RESTORE}")


def test_mnist_files_in_the_fashion_folder_are_refused(copy_raw, tmp_path):
    raw = copy_raw("mnist", folder="FashionMNIST")
    assert problem("fashion", tmp_path) == (
        f"{raw / TRAIN_IMAGES}: holds MNIST's train-images-idx3-ubyte, not FashionMNIST data "
        "(MNIST files copied into the FashionMNIST folder?); put the FashionMNIST files in "
        "FashionMNIST/raw/ and the MNIST ones in MNIST/raw/ "
        "(mnistperf.datafiles.KNOWN_SHA256 lists the expected SHA-256)")


def test_train_and_test_files_swapped_are_refused(copy_raw, tmp_path):
    raw = copy_raw("mnist")
    for a, b in ((TRAIN_IMAGES, TEST_IMAGES), (TRAIN_LABELS, TEST_LABELS)):
        os.rename(raw / a, raw / "tmp")
        os.rename(raw / b, raw / a)
        os.rename(raw / "tmp", raw / b)
    assert problem("mnist", tmp_path) == (
        f"{raw / TRAIN_IMAGES}: holds MNIST's t10k-images-idx3-ubyte, not "
        "train-images-idx3-ubyte (files swapped or renamed?); put each file back under its own "
        "name (mnistperf.datafiles.KNOWN_SHA256 lists the expected SHA-256)")


def test_unknown_digest_is_a_warning_naming_the_file(copy_raw, tmp_path):
    raw = copy_raw("fashion")
    pixel = 16 + 5 * 28 * 28 + 14 * 28 + 14
    old = (raw / TEST_IMAGES).read_bytes()[pixel]
    patch(raw / TEST_IMAGES, pixel, bytes([255 - old]))
    warnings = check_dataset_files("fashion", tmp_path)
    assert len(warnings) == 1
    assert re.fullmatch(
        re.escape(f"{raw / TEST_IMAGES}: SHA-256 ") + "[0-9a-f]{64}" + re.escape(
            " differs from the known copies of FashionMNIST's t10k-images-idx3-ubyte; results "
            "may not be comparable (mnistperf.datafiles.KNOWN_SHA256 lists the known copies)"),
        warnings[0])


def test_missing_files_name_them_and_the_data_root_fix(copy_raw, tmp_path):
    raw = copy_raw("mnist")
    os.remove(raw / TRAIN_LABELS)
    os.remove(raw / TEST_LABELS)
    assert problem("mnist", tmp_path) == (
        f"{raw}: missing train-labels-idx1-ubyte, t10k-labels-idx1-ubyte; point "
        "--mnistperf-data / MNISTPERF_DATA at a folder holding MNIST/raw/ "
        "(e.g. MNISTPERF_DATA=../shared/datasets)")
    assert problem("fashion", tmp_path).startswith(
        f"{tmp_path / 'FashionMNIST' / 'raw'}: missing train-images-idx3-ubyte, "
        "train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte; point")


def test_unknown_dataset_is_refused(tmp_path):
    assert problem("cifar", tmp_path) == "dataset 'cifar' is not one of: mnist, fashion"


def test_digests_are_cached_until_the_file_changes(copy_raw, tmp_path):
    raw = copy_raw("fashion")
    datafiles._sha256.cache_clear()
    assert check_dataset_files("fashion", tmp_path) == []
    assert datafiles._sha256.cache_info()[:2] == (0, 4)   # (hits, misses)
    assert check_dataset_files("fashion", tmp_path) == []
    assert datafiles._sha256.cache_info()[:2] == (4, 4)

    old = (raw / TEST_IMAGES).read_bytes()[16 + 300]
    patch(raw / TEST_IMAGES, 16 + 300, bytes([255 - old]))
    # A later mtime, as an edit normally gets; set explicitly so coarse clocks can't tie.
    stat = os.stat(raw / TEST_IMAGES)
    os.utime(raw / TEST_IMAGES, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    warnings = check_dataset_files("fashion", tmp_path)
    assert len(warnings) == 1 and warnings[0].startswith(f"{raw / TEST_IMAGES}: SHA-256 ")
    assert datafiles._sha256.cache_info()[:2] == (7, 5)


def test_unreadable_file_is_one_line_naming_it(copy_raw, tmp_path, monkeypatch):
    # A monkeypatched open, not chmod 000: root reads through file modes.
    raw = copy_raw("mnist")
    target = str(raw / TEST_LABELS)
    real_open = open

    def deny(path, *args, **kwargs):
        if os.fspath(path) == target:
            raise PermissionError(13, "Permission denied", target)
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr("builtins.open", deny)
    assert problem("mnist", tmp_path) == (
        f"{target}: not readable (permission denied); "
        f"give your user read permission on it (e.g. chmod a+r)")
