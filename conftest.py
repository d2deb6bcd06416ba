"""Root conftest: the YAML case collector lives in mapping.pytest_plugin."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("GLOG_v", "3")

pytest_plugins = ["mapping.pytest_plugin"]
