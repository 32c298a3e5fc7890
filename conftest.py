pytest_plugins = ["mnistperf.plugin"]
