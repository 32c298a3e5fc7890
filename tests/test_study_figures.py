"""Every figure of mnistperf.study.figures read back from the study's own text.

The text is `study/report.txt` of the shared folder beside the datasets
(MNISTPERF_DATA's parent); the test is skipped with the reason where it is not
there. It parses each table of the report independently of the module and
asserts that both hold exactly the same figures, digit for digit.
"""

import os
import re
from pathlib import Path

import pytest

from mnistperf.study.figures import CLAIM_TEXTS, FIGURES

REPORT = Path(os.environ.get("MNISTPERF_DATA", "../shared/datasets")).parent / "study" / \
    "report.txt"
OPT = {"SGD": "sgd", "Adam": "adam"}


@pytest.fixture(scope="module")
def report() -> str:
    if not REPORT.is_file():
        pytest.skip(f"the study's text is not at {REPORT} (MNISTPERF_DATA's parent/study)")
    return REPORT.read_text()


def _between(text: str, start: str, end: str) -> str:
    return text[text.index(start):text.index(end, text.index(start))]


def _latex(number: str) -> str:
    """'$1.54 \\times 10^7$' -> '1.54e7'."""
    m = re.fullmatch(r"\$(\S+) \\times 10\^(\d+)\$", number.strip())
    return f"{m[1]}e{m[2]}" if m else number.strip()


def _grid(section: str, table: str, dataset: str) -> dict:
    out = {}
    for line in section.splitlines():
        cells = line.split("\t")
        if len(cells) == 5 and cells[0].isdigit():
            bs, opt, lr, r18, r50 = cells
            for model, text in (("resnet18", r18), ("resnet50", r50)):
                config = (("dataset", dataset), ("model", model), ("batch_size", int(bs)),
                          ("optimizer", OPT[opt]), ("lr", float(lr)), ("device", "gpu"))
                out[(table, 0, config, "test_accuracy")] = text.strip()
    return out


def _from_report(text: str) -> dict:
    """(table, version, config, field) -> printed text, for every figure in the report."""
    out = _grid(_between(text, "Table 1:", "Figure 1"), "Table 1", "mnist")
    out.update(_grid(_between(text, "Table 2:", "Figure 3"), "Table 2", "fashion"))
    pin = _between(text, "3.1 Effect of Pin Memory", "Figure 5")
    base = (("dataset", "fashion"), ("model", "resnet18"), ("batch_size", 16),
            ("optimizer", "adam"), ("lr", 0.001), ("device", "gpu"), ("loader", "dataloader"))
    for flag, acc, ms in re.findall(r"\[(True|False), ([\d.]+), ([\d.]+)\]", pin):
        config = base + (("pin_memory", flag == "True"),)
        out[("pin_memory list", 0, config, "test_accuracy")] = acc
        out[("pin_memory list", 0, config, "train_seconds")] = ms
    svm = _between(text, "Table 3:", "Figure 7")
    for line in svm.splitlines():
        cells = [c.strip() for c in line.split("\t")]
        if len(cells) == 4 and cells[0] in ("MNIST", "FashionMNIST"):
            version, (dataset, kernel, acc, ms) = 1, cells
        elif len(cells) == 5 and cells[0].isdigit():
            version, (dataset, kernel, acc, ms) = 2, cells[1:]
        else:
            continue
        config = (("dataset", "mnist" if dataset == "MNIST" else "fashion"),
                  ("kernel", kernel.lower()), ("backend", "sklearn"))
        out[("Table 3", version, config, "all_train_accuracy")] = acc
        out[("Table 3", version, config, "fit_seconds")] = ms
    devices = _between(text, "Table 4:", "Figure 8")
    for line in devices.splitlines():
        cells = [c.strip() for c in line.split("\t")]
        if len(cells) == 8 and cells[0] in ("CPU", "GPU"):
            version, (device, _bs, opt, _lr, model, acc, ms, flops) = 1, cells
        elif len(cells) == 9 and cells[0].isdigit():
            version, (device, _bs, opt, _lr, model, acc, ms, flops) = 2, cells[1:]
        else:
            continue
        config = (("dataset", "fashion"), ("batch_size", 16), ("lr", 0.001),
                  ("model", model.lower()), ("optimizer", OPT[opt]),
                  ("device", device.lower()))
        for field, value in (("test_accuracy", acc), ("train_seconds", ms),
                             ("study_flops_per_image", flops)):
            out[("Table 4", version, config, field)] = _latex(value)
    return out


def test_every_figure_matches_the_study_digit_for_digit(report):
    ours = {(f.table, f.version, f.config, f.field): f.text for f in FIGURES}
    theirs = _from_report(report)
    assert len(theirs) == 82  # 32 + 4 + 16 + 30
    assert ours == theirs


def test_figures_are_in_the_records_units():
    by_key = {(f.table, f.version, f.settings.get("device"), f.settings.get("optimizer"),
               f.settings.get("model"), f.field): f.value for f in FIGURES}
    # Table 4, version 2, CPU ResNet-18 SGD: 1.539237e+07 ms = 15,392.37 s
    assert by_key[("Table 4", 2, "cpu", "sgd", "resnet18", "train_seconds")] == 15392.37
    assert by_key[("Table 4", 2, "cpu", "sgd", "resnet18", "study_flops_per_image")] == \
        1.823527e9


def test_every_claim_is_quoted_verbatim_from_section_6(report):
    section6 = report[report.index("## 6 Analysis and Observations"):]
    flat = " ".join(section6.split())
    for claim in CLAIM_TEXTS:
        assert claim.quote in flat, claim.key
        heading = f"{claim.section} "
        assert heading in section6, claim.section
    assert len(CLAIM_TEXTS) == 20
