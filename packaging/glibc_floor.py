"""The oldest glibc a frozen folder runs on: the newest ``GLIBC_2.N`` symbol version its ELF files
ask for. ``make_dist`` writes it into the .deb's Depends; ``dist_check.sh`` reads the unpacked
app again with ``python3 packaging/glibc_floor.py DIR`` and compares. Standard library only."""
from __future__ import annotations

import re
import sys
from pathlib import Path

_GLIBC_VERSION = re.compile(rb"GLIBC_2\.(\d+)")
BEFORE_SCAN = "2.28"  # what the .deb said before it read the bundle


def glibc_floor(app: Path) -> str:
    """A .deb saying less installs on a system where the app cannot start (the bundle's
    libstdc++ and libexpat from Debian 12 call arc4random, GLIBC_2.36: Ubuntu 22.04 has 2.35)."""
    newest = int(BEFORE_SCAN.split(".")[1])
    for path in Path(app).rglob("*"):
        if not path.is_file() or path.is_symlink():
            continue
        with open(path, "rb") as handle:
            if handle.read(4) != b"\x7fELF":
                continue
            found = [int(m) for m in _GLIBC_VERSION.findall(handle.read())]
        newest = max([newest, *found])
    return f"2.{newest}"


if __name__ == "__main__":
    print(glibc_floor(Path(sys.argv[1])))
