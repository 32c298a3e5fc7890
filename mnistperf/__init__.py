"""mnistperf: ResNet and SVM training on MNIST/FashionMNIST as pytest-benchmark cases.

Start at `mnistperf.config` (profiles, the grid), `mnistperf.train` (one case)
and `mnistperf.plugin` (how pytest runs them); README.md has the commands.
"""

__version__ = "0.1.0"
