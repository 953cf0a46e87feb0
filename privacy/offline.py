"""Offline guard: make every Hugging Face library refuse to reach a hub, and onnxruntime's
telemetry stay off.

Called first thing by the CLI, the desktop app and the frozen bundle's runtime hook, before
transformers/datasets/huggingface_hub are imported (they read these variables at import time).
"""
from __future__ import annotations

import os

OFFLINE_VARIABLES = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "HF_HUB_DISABLE_IMPLICIT_TOKEN": "1",
    "DO_NOT_TRACK": "1",
    # transformers 5 "kernelizes" every model it loads with compute kernels from the Hub unless
    # this is off: code fetched at run time, and in the frozen app a load that fails.
    "USE_HUB_KERNELS": "0",
    # onnxruntime (1.30 and later, Linux and macOS too) starts its telemetry when imported: a
    # device id written under ~/.cache/Microsoft and events uploaded from a native thread, out of
    # reach of any Python-level guard. ORT_DISABLE_TELEMETRY stops all of it (checked: nothing
    # is written); ORT_TELEMETRY_DISABLED is the name some releases read.
    "ORT_DISABLE_TELEMETRY": "1",
    "ORT_TELEMETRY_DISABLED": "1",
    # A tokenizer's parallelism warning after fork is noise for users; threads are ours to manage.
    "TOKENIZERS_PARALLELISM": "false",
    # transformers' own bars ("Loading weights", "Writing model shards") cut into Cloister's
    # progress lines and the desktop's logs; Cloister reports progress itself.
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
}
# Hints a user may set otherwise; the rest are forced.
_DEFAULTS_ONLY = ("TOKENIZERS_PARALLELISM", "HF_HUB_DISABLE_PROGRESS_BARS")


def enforce_offline() -> None:
    """Set the variables that keep transformers, datasets and the hub client offline.

    Uses ``setdefault`` semantics only for the parallelism hint; the offline switches are
    always forced on, because a user-provided ``HF_HUB_OFFLINE=0`` must not open a connection.
    """
    for name, value in OFFLINE_VARIABLES.items():
        if name in _DEFAULTS_ONLY:
            os.environ.setdefault(name, value)
        else:
            os.environ[name] = value
