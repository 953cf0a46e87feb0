"""Where the benchmarks find the full public datasets (the tests use excerpts in tests/data).

They live in ``../shared/data`` beside a development checkout; ``--data DIR`` points elsewhere.
A clone on its own has no such folder, and then a benchmark says so and stops at once instead
of failing half-way with a missing-file traceback.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from privacy.offline import enforce_offline

# Every benchmark that loads a model imports this module: the app's offline switches (no Hub,
# no Hub compute kernels) must hold for the figures too.
enforce_offline()

DEFAULT = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def add_data_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", type=Path, default=DEFAULT,
                        help=f"folder with the full public datasets (default: {DEFAULT})")


def require(data: Path, *relative: str) -> Path:
    """``data``, after checking that every file the benchmark reads is there."""
    missing = [name for name in relative if not (data / name).exists()]
    if missing:
        raise SystemExit(
            f"this benchmark needs the full public datasets: {', '.join(missing)} not found in {data}. "
            "They sit in ../shared/data beside a development checkout; pass --data DIR where they are "
            "elsewhere (the test suite does not need them: it reads tests/data).")
    return data
