"""How tests/fixtures/run-0.2-golden was made: the 0.1.0 smoke run's records,
stored as current-format case documents and rendered by the current code.

    python -m tests.golden      # rewrites the fixture; review the diff of tables.md

Run it only when a change to the output is intended; the re-render test then
holds every section of tables.md to it.
"""

import json
import shutil
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures"
OLD, GOLDEN = FIXTURES / "run-0.1.0-smoke", FIXTURES / "run-0.2-golden"
KEEP = ("cases", "benchmark.json", "tables.md")


def make(out: Path = GOLDEN) -> None:
    from mnistperf import __version__
    from mnistperf.store import case_document, run_json, write_case
    from mnistperf.suite.compose import save_run

    old = json.loads((OLD / "benchmark.json").read_text())
    shutil.rmtree(out, ignore_errors=True)
    (out / "cases").mkdir(parents=True)
    for n, bench in enumerate(old["benchmarks"]):
        param = bench["param"]
        bench = dict(bench, params={next(iter(bench["params"])): param})
        write_case(out, case_document(
            config=None, benchmark=bench, run=out.name, version=__version__,
            machine=old["machine_info"]["mnistperf"],
            finished_utc=f"2026-11-29T01:{10 + n // 60:02d}:{n % 60:02d}+00:00"))
    meta = dict(old["mnistperf"], run=out.name, repeats=1,
                targets={"mnist": 99.0, "fashion": 92.0})
    data = run_json([json.loads(p.read_text()) for p in sorted((out / "cases").glob("*"))],
                    old["machine_info"], old["commit_info"], meta, old["datetime"],
                    old["version"])
    # save_run writes the whole report: do it in a copy, keep only KEEP.
    work = out.parent / f".{out.name}-work" / out.name
    shutil.copytree(out, work)
    save_run(work, json.dumps(data, indent=4))
    for name in KEEP[1:]:
        shutil.copy(work / name, out / name)
    shutil.rmtree(work.parent)


if __name__ == "__main__":
    make()
