"""PyInstaller runtime hook: runs before any application module in the frozen build.

* A windowed build has ``sys.stdout``/``sys.stderr`` set to ``None``; tqdm and transformers'
  logging write to them and would crash, so point them at a null device.
* The Hugging Face libraries read their offline switches at import time: set them first.
"""
import os
import sys

if sys.stdout is None:
    sys.stdout = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 - lives for the process
if sys.stderr is None:
    sys.stderr = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115

for _name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE", "HF_HUB_DISABLE_TELEMETRY"):
    os.environ[_name] = "1"
os.environ["USE_HUB_KERNELS"] = "0"  # no Hub compute kernels (the bundle leaves the package out)
