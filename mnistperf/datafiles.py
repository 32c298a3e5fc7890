"""Up-front checks of a dataset's four raw IDX files, with one-line errors a user can act on.

This module owns the question "are the files under <root>/<Folder>/raw/ the ones we expect?"
and nothing else: it reads them with the standard library only (no torch), so it can run
once, before any training, and fail in a second instead of deep inside torchvision.

    warnings = check_dataset_files("fashion", root)   # raises DataFileError on the first bad file
    for line in warnings:                              # e.g. a file with an unknown SHA-256
        print(line)

Every message is one line that starts with the file (or folder) path, says what is wrong
and how to fix it. Checks, in order: all four files present; per file: not empty, a full
IDX header, the right magic number, 28x28 images, a file size that matches the count in the
header exactly; per split: as many labels as images; labels within 0..9; and last the
SHA-256 against the known copies (see KNOWN_SHA256). A file holding another known file's
bytes (MNIST in the FashionMNIST folder, a test file in place of a training file) is an
error; a digest nobody knows is only a warning, since a re-download may legitimately differ.
Digests are cached per (path, size, mtime), so a second call in the same process is free.
"""

from __future__ import annotations

import functools
import hashlib
import os
import struct

RAW_FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)
FOLDERS = {"mnist": "MNIST", "fashion": "FashionMNIST"}

# From the shared datasets' README. MNIST: the original files; FashionMNIST: the original
# label files and the shared copy's images (byte identity with the originals is not
# established). A set per file, so another verified copy can be added without reshaping.
KNOWN_SHA256: dict[str, dict[str, frozenset[str]]] = {
    "mnist": {
        "train-images-idx3-ubyte":
            frozenset({"ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db"}),
        "train-labels-idx1-ubyte":
            frozenset({"65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5"}),
        "t10k-images-idx3-ubyte":
            frozenset({"0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7"}),
        "t10k-labels-idx1-ubyte":
            frozenset({"ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"}),
    },
    "fashion": {
        "train-images-idx3-ubyte":
            frozenset({"38f293c4a3881af2a3950da2d9954219bc9c3be886ca598c16807d354b06895e"}),
        "train-labels-idx1-ubyte":
            frozenset({"bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9"}),
        "t10k-images-idx3-ubyte":
            frozenset({"5f9736a4bcf7606c3eb59c072ae9c6b7d185a31d51df40d6fed6002c324cb812"}),
        "t10k-labels-idx1-ubyte":
            frozenset({"0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34"}),
    },
}
_OWNER = {digest: (dataset, name) for dataset, files in KNOWN_SHA256.items()
          for name, digests in files.items() for digest in digests}

IMAGES_MAGIC, LABELS_MAGIC = 2051, 2049   # 0x00000803 (ubyte, 3 dims), 0x00000801 (ubyte, 1 dim)
SIDE = 28
NUM_CLASSES = 10
_SEE_README = "(mnistperf.datafiles.KNOWN_SHA256 lists the expected SHA-256)"
RESTORE = f"restore the original file {_SEE_README}"


class DataFileError(ValueError):
    """A raw dataset file is missing or damaged; the message is one line with the fix."""


def _problem(path, what: str, fix: str = RESTORE) -> str:
    # Paths with newlines would break the one-line promise (logs, pytest -ra summaries).
    return f"{path}: {what}; {fix}".replace("\n", " ")


def check_dataset_files(dataset: str, root) -> list[str]:
    """Check <root>/<Folder>/raw/*; raise DataFileError on the first bad file, return warnings."""
    try:
        return _check_files(dataset, root)
    except PermissionError as exc:
        raise DataFileError(_problem(
            exc.filename, "not readable (permission denied)",
            "give your user read permission on it (e.g. chmod a+r)")) from None


def _check_files(dataset: str, root) -> list[str]:
    if dataset not in FOLDERS:
        raise DataFileError(f"dataset {dataset!r} is not one of: {', '.join(FOLDERS)}")
    folder = FOLDERS[dataset]
    raw = os.path.join(os.fspath(root), folder, "raw")
    paths = {name: os.path.join(raw, name) for name in RAW_FILES}

    missing = [name for name, path in paths.items() if not os.path.isfile(path)]
    if missing:
        raise DataFileError(_problem(
            raw, f"missing {', '.join(missing)}",
            f"point --mnistperf-data / MNISTPERF_DATA at a folder holding {folder}/raw/ "
            f"(e.g. MNISTPERF_DATA=../shared/datasets)"))

    counts = {name: _check_structure(path, name) for name, path in paths.items()}
    for split in ("train", "t10k"):
        images, labels = f"{split}-images-idx3-ubyte", f"{split}-labels-idx1-ubyte"
        if counts[images] != counts[labels]:
            raise DataFileError(_problem(
                paths[labels],
                f"{counts[labels]} labels but {images} has {counts[images]} images"))
    for name in ("train-labels-idx1-ubyte", "t10k-labels-idx1-ubyte"):
        bad = _first_bad_label(*_key(paths[name]))
        if bad is not None:
            index, value = bad
            raise DataFileError(_problem(
                paths[name], f"label {value} at index {index} is outside 0..{NUM_CLASSES - 1}"))

    warnings = []
    for name, path in paths.items():
        digest = _sha256(*_key(path))
        owner = _OWNER.get(digest)
        if owner is not None and owner[0] != dataset:
            other = FOLDERS[owner[0]]
            raise DataFileError(_problem(
                path, f"holds {other}'s {owner[1]}, not {folder} data "
                      f"({other} files copied into the {folder} folder?)",
                f"put the {folder} files in {folder}/raw/ and the {other} ones in "
                f"{other}/raw/ {_SEE_README}"))
        if owner is not None and owner[1] != name:
            raise DataFileError(_problem(
                path, f"holds {folder}'s {owner[1]}, not {name} (files swapped or renamed?)",
                f"put each file back under its own name {_SEE_README}"))
        if owner is None:
            warnings.append(
                f"{path}: SHA-256 {digest} differs from the known copies of {folder}'s {name}; "
                f"results may not be comparable (mnistperf.datafiles.KNOWN_SHA256 lists the "
                f"known copies)")
    return warnings


def _check_structure(path: str, name: str) -> int:
    """Validate header and size of one IDX file; return the item count from its header."""
    is_images = "-images-" in name
    header_len = 16 if is_images else 8
    size = os.path.getsize(path)
    if size == 0:
        raise DataFileError(_problem(path, "the file is empty (0 bytes)"))
    if size < header_len:
        raise DataFileError(_problem(
            path, f"{size} bytes is shorter than the {header_len}-byte IDX header"))
    with open(path, "rb") as f:
        header = f.read(header_len)

    expected = IMAGES_MAGIC if is_images else LABELS_MAGIC
    (magic,) = struct.unpack(">I", header[:4])
    if magic != expected:
        kind, other_kind = ("images", "labels") if is_images else ("labels", "images")
        other_magic = LABELS_MAGIC if is_images else IMAGES_MAGIC
        hint = f" (the {other_kind} magic: files swapped?)" if magic == other_magic else ""
        raise DataFileError(_problem(
            path, f"wrong magic number {magic} (0x{magic:08x}){hint}, expected {expected} "
                  f"(0x{expected:08x}) for IDX {kind}"))

    if is_images:
        count, rows, cols = struct.unpack(">III", header[4:16])
        if (rows, cols) != (SIDE, SIDE):
            raise DataFileError(_problem(
                path, f"header says {rows}x{cols} images, expected {SIDE}x{SIDE}"))
        what = f"{count} images of {SIDE}x{SIDE}"
        want = header_len + count * SIDE * SIDE
    else:
        (count,) = struct.unpack(">I", header[4:8])
        what = f"{count} labels"
        want = header_len + count
    if size != want:
        hint = "cut short?" if size < want else "extra bytes at the end?"
        raise DataFileError(_problem(
            path, f"header says {what} = {want} bytes but the file has {size} bytes ({hint})"))
    return count


def image_counts(dataset: str, root) -> dict[str, tuple[str, int]]:
    """name -> (path, image count from its header) for the two image files; call after
    check_dataset_files has passed."""
    raw = os.path.join(os.fspath(root), FOLDERS[dataset], "raw")
    counts = {}
    for name in ("train-images-idx3-ubyte", "t10k-images-idx3-ubyte"):
        path = os.path.join(raw, name)
        with open(path, "rb") as f:
            (count,) = struct.unpack(">I", f.read(8)[4:8])
        counts[name] = (path, count)
    return counts


def check_sizes(dataset: str, root, configs, split_total: int) -> None:
    """DataFileError when the files hold fewer images than a case's profile needs: the
    split needs `split_total` training images, a ResNet case its official_test_size."""
    counts = image_counts(dataset, root)
    path, have = counts["train-images-idx3-ubyte"]
    if have != split_total:
        raise DataFileError(_problem(
            path, f"{have} images but the 70/10/20 split needs {split_total}"))
    path, have = counts["t10k-images-idx3-ubyte"]
    for config in configs:
        need = getattr(config, "official_test_size", None)
        if need is not None and need > have:
            raise DataFileError(_problem(
                path, f"{have} images but profile {config.profile!r} needs "
                      f"official_test_size={need}",
                f"{RESTORE}, or choose a profile that needs at most {have}"))


def file_digests(dataset: str, root) -> dict[str, str]:
    """SHA-256 of each raw file of `dataset` under `root` (missing files left out):
    what a case's record keeps of the data it read."""
    raw = os.path.join(os.fspath(root), FOLDERS[dataset], "raw")
    paths = {name: os.path.join(raw, name) for name in RAW_FILES}
    return {f"{FOLDERS[dataset]}/{name}": _sha256(*_key(path))
            for name, path in paths.items() if os.path.isfile(path)}


def _key(path: str) -> tuple[str, int, int]:
    # Size and mtime in the key make an edited or replaced file miss the cache.
    st = os.stat(path)
    return os.path.abspath(path), st.st_size, st.st_mtime_ns


@functools.lru_cache(maxsize=None)
def _sha256(path: str, size: int, mtime_ns: int) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


@functools.lru_cache(maxsize=None)
def _first_bad_label(path: str, size: int, mtime_ns: int) -> tuple[int, int] | None:
    with open(path, "rb") as f:
        labels = f.read()[8:]
    if not labels or max(labels) < NUM_CLASSES:
        return None
    index = next(i for i, value in enumerate(labels) if value >= NUM_CLASSES)
    return index, labels[index]
