"""Benchmarks make throw-away workspaces; each one's record of its newest copy (an anchor,
``privacy.vault.anchor``) went to the user's config folder and stayed there after the workspace
was deleted (1,385 stale ones had piled up on the development machine). Imported first by
every benchmark that makes one: the anchors go to a temporary folder, removed at exit, unless
``CLOISTER_ANCHOR_DIR`` already says where."""
from __future__ import annotations

import atexit
import os
import shutil
import tempfile

if not os.environ.get("CLOISTER_ANCHOR_DIR"):
    _folder = tempfile.mkdtemp(prefix="cloister-bench-anchors-")
    os.environ["CLOISTER_ANCHOR_DIR"] = _folder  # inherited by the training children too
    atexit.register(shutil.rmtree, _folder, True)
