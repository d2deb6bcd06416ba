"""Root conftest: the YAML case collector lives in mapping.pytest_plugin."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("GLOG_v", "3")
# Two xdist workers on two cores: one compute thread each. The LSTMs here are tiny, and thread pools
# spinning against each other made the torch gradient grid 20x slower (28 s instead of 1.4 s).
os.environ.setdefault("OMP_NUM_THREADS", "1")

pytest_plugins = ["mapping.pytest_plugin"]
