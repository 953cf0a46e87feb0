"""Offline guard: make every Hugging Face library refuse to reach a hub.

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
    # A tokenizer's parallelism warning after fork is noise for users; threads are ours to manage.
    "TOKENIZERS_PARALLELISM": "false",
}


def enforce_offline() -> None:
    """Set the variables that keep transformers, datasets and the hub client offline.

    Uses ``setdefault`` semantics only for the parallelism hint; the offline switches are
    always forced on, because a user-provided ``HF_HUB_OFFLINE=0`` must not open a connection.
    """
    for name, value in OFFLINE_VARIABLES.items():
        if name == "TOKENIZERS_PARALLELISM":
            os.environ.setdefault(name, value)
        else:
            os.environ[name] = value
