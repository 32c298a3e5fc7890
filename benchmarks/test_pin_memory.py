"""pin_memory on and off on the DataLoader path (the seed's experiment:
FashionMNIST, ResNet-18, batch 16, Adam, lr 0.001), per device."""


def test_pin_memory(train_case, case_batches, run_train_case):
    run_train_case(train_case, case_batches)
