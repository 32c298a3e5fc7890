"""What a selection of cases will cost, before it runs: `mnistperf plan`.

    plan = make_plan(configs, repeats=1, data_root=root, say=print)
    plan.seconds(case_id)          # this machine's prediction for one case
    plan.total()                   # for the whole selection, one after another

`work` turns a case into counts of units of work (training steps, evaluated
images, rounds, SVM fits); `calibrate` times each distinct unit on this machine
(a few steps after a warm-up, two small SVM fits); `cache` keeps those timings
per machine so a second plan is instant; `predict` multiplies counts by timings
and packs cases onto N devices as dispatch schedules them; `command` is the
`mnistperf plan` subcommand. Nothing here imports pytest.
"""

from mnistperf.plan.predict import Plan, make_plan

__all__ = ["Plan", "make_plan"]
