"""10 vs 20 epochs: one 20-epoch run per configuration, with the test sets also
evaluated after epoch 10; the 10-epoch row is read from it (constant learning
rate, same seed and batch order), not trained again."""


def test_epochs(train_case, case_batches, run_train_case):
    run_train_case(train_case, case_batches)
