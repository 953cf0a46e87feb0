"""The ``cloister`` console script.

No arguments: open the desktop app. Any arguments: hand over to the headless CLI in
``engine.cli``, which never imports Qt — so this module must not import Qt either.
"""
from __future__ import annotations

import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args:
        from desktop.app import main as desktop_main

        return desktop_main()
    from engine.cli import main as cli_main

    return cli_main(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
