#!/usr/bin/env bash
# The hash of what decides the frozen bundle: the spec, the dependencies and the packaging
# scripts. dist-check records it in packaging/CHECKED when it passes; .ci/run rebuilds and
# re-checks the installers whenever it differs (a change of spec or dependencies), and skips
# the ~15-minute build otherwise, since the application code itself is covered by make test.
set -euo pipefail
cd "$(dirname "$0")/.."
cat build.spec pyproject.toml packaging/*.py packaging/*.sh | sha256sum | cut -d' ' -f1
