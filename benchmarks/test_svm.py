"""SVM cases (mnistperf.experiments.svm): dataset x kernel x backend on the CPU;
the benchmark times the fit."""

import pytest

from mnistperf.records import SvmRecord
from mnistperf.svm import evaluate_svm, fit_svm, make_svc

pytestmark = pytest.mark.experiment("svm")


def test_fit(benchmark, svm_case, svm_case_data, progress):
    model = make_svc(svm_case)
    progress(f"fitting on {svm_case.train_size:,} images")
    fitted = benchmark.pedantic(fit_svm, args=(model, svm_case_data), rounds=1, iterations=1)
    result = evaluate_svm(fitted, svm_case_data)
    progress(f"fit {fitted.fit_seconds:.1f}s, predict {result.predict_seconds:.1f}s, "
             f"test {result.test_accuracy:.2f}%")
    benchmark.extra_info.update(SvmRecord.from_fit(svm_case, fitted, result).to_extra_info())
