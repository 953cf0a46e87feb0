"""Core dumps are off in the CLI and desktop entry points (a core file would hold plaintext)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

# Run in a child that first allows core dumps (soft = hard, which any process may do), so the
# result does not depend on what earlier tests did to this process's limits.
PROBE = """
import resource
hard = resource.getrlimit(resource.RLIMIT_CORE)[1]
resource.setrlimit(resource.RLIMIT_CORE, (hard, hard))
{call}
print(resource.getrlimit(resource.RLIMIT_CORE)[0])
"""


def _limit_after(call: str) -> str:
    import resource

    if resource.getrlimit(resource.RLIMIT_CORE)[1] == 0:
        pytest.skip("this machine's hard core limit is already 0: nothing to prove here")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ["PYTHONPATH"]])}
    done = subprocess.run([sys.executable, "-c", PROBE.format(call=call)], capture_output=True,
                          text=True, env=env, timeout=120, check=True)
    return done.stdout.strip().splitlines()[-1]


@pytest.mark.skipif(os.name != "posix", reason="RLIMIT_CORE is POSIX")
def test_helper_sets_rlimit_core_to_zero() -> None:
    assert _limit_after("pass") != "0"  # the probe starts with core dumps allowed
    assert _limit_after("from privacy.hardening import disable_core_dumps\n"
                        "assert disable_core_dumps()") == "0"


@pytest.mark.skipif(os.name != "posix", reason="RLIMIT_CORE is POSIX")
def test_cli_entry_point_turns_core_dumps_off() -> None:
    call = ("from engine.cli import main\n"
            "try:\n    main(['--help'])\nexcept SystemExit:\n    pass")
    assert _limit_after(call) == "0"


def test_desktop_entry_point_calls_it() -> None:
    # Opening a window is not possible here; check the call sits in desktop.app.main itself.
    import ast

    tree = ast.parse((REPO / "desktop" / "app.py").read_text(encoding="utf-8"))
    main = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "main")
    calls = [n.func.id for n in ast.walk(main)
             if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)]
    assert calls.index("disable_core_dumps") < calls.index("enforce_offline")


def test_the_libraries_own_progress_bars_are_off_unless_the_user_wants_them() -> None:
    """transformers' "Loading weights" bars cut into Cloister's progress lines (scan --names)."""
    import os
    import subprocess
    import sys

    probe = ("from privacy.offline import enforce_offline; enforce_offline(); "
             "from transformers.utils import logging; print(logging.is_progress_bar_enabled())")
    env = {k: v for k, v in os.environ.items() if k != "HF_HUB_DISABLE_PROGRESS_BARS"}
    out = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True,
                         check=True, timeout=120)
    assert out.stdout.strip() == "False"
    env["HF_HUB_DISABLE_PROGRESS_BARS"] = "0"  # a user's own choice stands
    out = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True,
                         check=True, timeout=120)
    assert out.stdout.strip() == "True"


def test_onnxruntime_writes_no_device_id_and_starts_no_telemetry(tmp_path) -> None:
    """Importing onnxruntime 1.30+ (ONNX export) started its telemetry: a device id and an
    event database under ~/.cache/Microsoft/DeveloperTools, and uploads from a native thread
    that no Python-level network guard sees. The offline variables turn it off before it
    starts (without them, this onnxruntime writes both files in an empty home)."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith("ORT_")}
    probe = "from privacy.offline import enforce_offline; enforce_offline(); import onnxruntime"
    home = tmp_path / "home"
    home.mkdir()
    subprocess.run([sys.executable, "-c", probe], check=True, timeout=120,
                   env={**env, "HOME": str(home), "XDG_CACHE_HOME": str(home / ".cache")})
    assert sorted(p.relative_to(home).as_posix() for p in home.rglob("*")) == []


_OFFLINE_PROBE = """
import os
from privacy.offline import OFFLINE_VARIABLES
try:
    {call}
except SystemExit:
    pass
print(sorted(k for k, v in OFFLINE_VARIABLES.items() if os.environ.get(k) != v))
"""


def _unset_after(call: str) -> str:
    """The offline variables left unset (or set otherwise) after ``call``, in a child whose
    environment starts without them, and with a user's HF_HUB_OFFLINE=0 that must not stand.
    (The suite sets them for itself at start-up, so an in-process check would prove nothing.)"""
    from privacy.offline import OFFLINE_VARIABLES

    env = {k: v for k, v in os.environ.items() if k not in OFFLINE_VARIABLES}
    env.update(PYTHONPATH=os.pathsep.join([str(REPO), os.environ["PYTHONPATH"]]), HF_HUB_OFFLINE="0",
               QT_QPA_PLATFORM="offscreen", CLOISTER_QUIT_AFTER_SHOW="1")
    done = subprocess.run([sys.executable, "-c", _OFFLINE_PROBE.format(call=call)], env=env,
                          capture_output=True, text=True, timeout=180, check=True, cwd=REPO)
    return done.stdout.strip().splitlines()[-1]


def test_the_entry_points_force_every_offline_switch_on() -> None:
    assert _unset_after("pass") != "[]"  # the probe starts without them
    assert _unset_after("from engine.cli import main; main(['--help'])") == "[]"
    assert _unset_after("from desktop.app import main; main()") == "[]"
