"""Suite-wide set-up: no network, no caches or workspaces outside the test's tmp_path."""
from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import network_guard

# CI fails on a skipped test (tests/fail_on_skip.py).
pytest_plugins = ["tests.fail_on_skip"]

# Small real excerpts of public datasets, cut by bench/make_test_excerpts.py (sources and licences
# in tests/data/README.md). The suite reads nothing outside the repository.
REAL_DATA = Path(__file__).resolve().parent / "data"

# Variables that point a library at a place it may write to. Each test gets its own folders.
_CACHE_VARIABLES = {
    "HF_HOME": "hf_home",
    "HF_DATASETS_CACHE": "hf_datasets",
    "HUGGINGFACE_HUB_CACHE": "hf_hub",
    "TRANSFORMERS_CACHE": "hf_transformers",
    "XDG_CACHE_HOME": "xdg_cache",
    "XDG_DATA_HOME": "xdg_data",
    "XDG_CONFIG_HOME": "xdg_config",
    "CLOISTER_WORKSPACE": "workspace",
    "CLOISTER_SETTINGS_DIR": "settings",
    "CLOISTER_ANCHOR_DIR": "anchors",
    "TORCHINDUCTOR_CACHE_DIR": "inductor",
    "MPLCONFIGDIR": "mpl",
}


def pytest_configure(config: pytest.Config) -> None:
    network_guard.install()
    # Tests create thousands of vaults with scrypt 2^10 (same code path, ~1 ms instead of ~1 s).
    # Writing below the 2^17 floor is refused unless this explicit, test-only switch is on
    # (privacy/vault/kdf.py); tests/privacy/test_integrity.py proves the refusal without it.
    os.environ["CLOISTER_UNSAFE_TEST_KDF"] = "1"
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from privacy.offline import enforce_offline

    enforce_offline()
    # Two cores here: keep torch from oversubscribing when tests run beside other work.
    os.environ.setdefault("OMP_NUM_THREADS", "2")
    # Module- and session-scoped fixtures (a run trained once for a file's tests) run before
    # ``isolated_dirs`` points anything at a test's folder: they wrote the vault's rollback
    # anchors into the real ~/.config/Cloister/anchors. The whole session starts isolated.
    import atexit
    import shutil
    import tempfile

    session = Path(tempfile.mkdtemp(prefix="cloister-tests-"))
    atexit.register(shutil.rmtree, session, ignore_errors=True)
    for variable, name in _CACHE_VARIABLES.items():
        (session / name).mkdir()
        os.environ[variable] = str(session / name)
    # Python children the tests start get the guard too (tests/guard_site/sitecustomize.py),
    # and write what they tried where ``no_network_attempts`` reads it.
    os.environ[network_guard.LOG_VARIABLE] = str(session / "network-attempts.log")
    os.environ["PYTHONPATH"] = os.pathsep.join(
        [str(Path(__file__).resolve().parent / "guard_site"),
         *filter(None, [os.environ.get("PYTHONPATH")])])


@pytest.fixture(autouse=True)
def no_network_attempts() -> Iterator[None]:
    """A blocked attempt fails the test that made it, also when the code under test caught the
    ``NetworkBlocked`` (a worker thread reports any exception as a failed job, and a test of
    that failure path would pass), and also when a child process made it."""
    before = network_guard.logged()
    yield
    made = network_guard.logged()[len(before):].splitlines()
    if made:
        pytest.fail("network access was attempted (and blocked):\n" + "\n".join(made))


@pytest.fixture(autouse=True)
def isolated_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """Point every cache, the settings and the workspace at this test's tmp_path."""
    root = tmp_path / "_env"
    dirs: dict[str, Path] = {}
    for variable, name in _CACHE_VARIABLES.items():
        path = root / name
        path.mkdir(parents=True, exist_ok=True)
        monkeypatch.setenv(variable, str(path))
        dirs[variable] = path
    tmp = root / "tmp"
    tmp.mkdir()
    monkeypatch.setenv("TMPDIR", str(tmp))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    dirs["TMPDIR"] = tmp
    return dirs


@pytest.fixture
def real_data() -> Path:
    """The folder of real dataset excerpts kept in the repository (tests/data)."""
    return REAL_DATA

