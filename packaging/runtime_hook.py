"""PyInstaller runtime hook: runs before any application module in the frozen build.

* A windowed build has ``sys.stdout``/``sys.stderr`` set to ``None``; tqdm and transformers'
  logging write to them and would crash, so point them at a null device.
* The Hugging Face libraries read their offline switches at import time: set them first, from
  the one list the CLI and the desktop app use too (``privacy.offline``; it imports only ``os``).
"""
import os
import sys

if sys.stdout is None:
    sys.stdout = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 - lives for the process
if sys.stderr is None:
    sys.stderr = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115

from privacy.offline import enforce_offline  # noqa: E402 - after the streams exist

enforce_offline()
