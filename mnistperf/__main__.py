"""Command line: `python -m mnistperf flops|report|compare|grid ...`.

    python -m mnistperf flops resnet18 --input-size 224 --channels 3
    python -m mnistperf report results/latest          # re-render a run folder
    python -m mnistperf report .benchmarks/.../0001_x.json --out results/x
    python -m mnistperf compare results/run-a results/run-b
    python -m mnistperf grid --profile quick            # every case id of a profile

Bad input (missing path, not pytest-benchmark JSON, no mnistperf cases, an --out
that is a file or cannot be written) is one line on stderr and exit code 2, with
nothing written. Output cut short by its reader (`... | head -1`) ends quietly.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from mnistperf import __version__
from mnistperf.config import MODELS

# The registry's names, without importing the experiments (and matplotlib) for --help.
EXPERIMENT_NAMES = ("grid", "devices", "pin_memory", "epochs", "pipeline", "svm")


def _flops(args) -> int:
    from mnistperf.flops import flops_per_image, macs_per_image

    macs = macs_per_image(args.model, args.channels, args.input_size)
    flops = flops_per_image(args.model, args.channels, args.input_size)
    print(f"{args.model} {args.channels}x{args.input_size}x{args.input_size}: "
          f"{macs:.3e} MACs per image (fvcore), {flops:.3e} FLOPs per image (2 x MACs)")
    return 0


def _report(args) -> int:
    from mnistperf.report.compose import write_report
    from mnistperf.report.run import load_run

    path = Path(args.path)
    out = Path(args.out) if args.out else (
        path if path.is_dir() else
        Path(os.environ.get("MNISTPERF_RESULTS") or "results") / f"report-{path.stem}")
    # Checked before loading, so a mistyped --out fails fast and writes nothing.
    if out.exists() and not out.is_dir():
        raise CliError(f"{out}: exists and is not a folder; give a new or existing folder "
                       f"for --out")
    run = load_run(args.path)
    try:
        written = write_report(run, out)
    except OSError as exc:
        # exc.filename is the path that failed (e.g. the first folder mkdir could not
        # create), which is more useful than --out itself.
        raise CliError(f"{exc.filename or out}: cannot write the report "
                       f"({exc.strerror or exc}); give a writable --out folder") from None
    print(f"wrote {len(written)} files to {out}/ ({len(run.cases)} cases from {run.source})")
    return 0


def _compare(args) -> int:
    from mnistperf.report.compare import compare_runs
    from mnistperf.report.run import load_run

    a, b = load_run(args.a), load_run(args.b)
    sys.stdout.write(compare_runs(a, b))
    return 0


def _grid(args) -> int:
    from mnistperf.experiments import EXPERIMENTS
    from mnistperf.profiles import get_profile

    profile = get_profile(args.profile)
    for experiment in EXPERIMENTS:
        if args.kind in ("all", experiment.name):
            for case in experiment.cases(profile, args.seed):
                print(f"{experiment.name:<10} {case.case_id}")
    return 0


class CliError(Exception):
    """A bad command line input; the message is one line for the user."""


def _examples() -> str:
    # The module docstring's examples, so --help and the docs cannot drift apart
    # (and none at all under python -OO, which strips docstrings).
    lines = [line for line in (__doc__ or "").splitlines()
             if line.startswith("    python -m mnistperf")]
    return "examples:\n" + "\n".join(lines) if lines else ""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m mnistperf", epilog=_examples(),
        description="FLOPs of a model, reports and comparisons of benchmark runs, "
                    "the case ids of a profile.",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"mnistperf {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    flops = sub.add_parser("flops", help="fvcore MACs and FLOPs per image of a model")
    flops.add_argument("model", choices=MODELS)
    flops.add_argument("--input-size", type=int, default=28,
                       help="input height and width in pixels (default: 28)")
    flops.add_argument("--channels", type=int, choices=(1, 3), default=1,
                       help="input channels (default: 1)")
    flops.set_defaults(run=_flops)
    report = sub.add_parser("report", help="write tables.md, CSVs, figures and index.html "
                                           "from a run folder or a pytest-benchmark JSON")
    report.add_argument("path", help="a results/<run> folder or a benchmark JSON file")
    report.add_argument("--out", help="output folder (default: the run folder itself; for a "
                                      "JSON file, <results>/report-<file stem>)")
    report.set_defaults(run=_report)
    compare = sub.add_parser("compare", help="accuracy and time per case id of two runs")
    compare.add_argument("a", help="run folder or benchmark JSON (baseline)")
    compare.add_argument("b", help="run folder or benchmark JSON (compared)")
    compare.set_defaults(run=_compare)
    grid = sub.add_parser("grid", help="list the case ids a profile defines")
    grid.add_argument("--profile", default="quick", choices=("smoke", "quick", "paper"),
                      help="size profile (default: quick)")
    grid.add_argument("--kind", default="all", choices=("all", *EXPERIMENT_NAMES),
                      help="which experiment's cases (default: all)")
    grid.add_argument("--seed", type=int, default=0, help="base seed (default: 0)")
    grid.set_defaults(run=_grid)
    return parser


def main(argv=None) -> int:
    from mnistperf.report.run import ReportError

    args = build_parser().parse_args(argv)
    try:
        code = args.run(args)
        # Flushed here, not at exit, so a closed pipe raises where it is caught.
        sys.stdout.flush()
        return code
    except BrokenPipeError:
        return _reader_went_away()
    except (ReportError, CliError) as exc:
        message = str(exc)
    except OSError as exc:
        if exc.filename is None:  # not about a path the user gave: a bug, keep its traceback
            raise
        # Writes are turned into CliError above, so this is an input that cannot be read.
        message = f"{exc.filename}: cannot read it ({exc.strerror or exc})"
    print(f"mnistperf {args.command}: error: {message}".replace("\n", " "), file=sys.stderr)
    return 2


def _reader_went_away() -> int:
    # The reader (`| head -1`) stopped reading: that is its choice, not our error.
    # Point stdout at devnull so the interpreter's final flush cannot fail again and
    # print "Exception ignored ... BrokenPipeError"; exit 0 so `set -o pipefail`
    # scripts do not fail on it.
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (AttributeError, OSError, ValueError):  # stdout replaced (tests), no fd
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
