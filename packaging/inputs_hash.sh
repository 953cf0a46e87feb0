#!/usr/bin/env bash
# The hash of what decides the frozen bundle: the spec, the dependencies, the build commands
# (Makefile: the torch pin, the pyinstaller call), the packaging scripts, what they import
# (the .deb's dependencies come from desktop/platform_check.py, the runtime hook imports
# privacy/offline.py) and the data files bundled from resources/. dist-check records it in packaging/CHECKED when it passes; .ci/run rebuilds and
# re-checks the installers whenever it differs (a change of spec or dependencies), and skips
# the ~15-minute build otherwise, since the application code itself is covered by make test.
set -euo pipefail
cd "$(dirname "$0")/.."
{ cat build.spec pyproject.toml Makefile packaging/*.py packaging/*.sh desktop/platform_check.py \
      privacy/offline.py
  # Not the bytecode a test run leaves in resources/ (it embeds the run's own paths).
  find resources -type f ! -path '*/__pycache__/*' ! -name '*.pyc' -print0 | LC_ALL=C sort -z |
    xargs -0 sha256sum; } | sha256sum | cut -d' ' -f1
