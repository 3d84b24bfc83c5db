#!/usr/bin/env bash
# Install everything the tests need into .venv (and Debian's chromium for the browser test), then run them.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -r requirements-dev.txt
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    (apt-get update -q && apt-get install -y -q chromium fonts-wqy-microhei) >/dev/null
  else
    echo "note: chromium is missing; run 'sudo apt-get install chromium' or the browser test will skip" >&2
  fi
fi
.venv/bin/python -m beian validate
# pytest exits 5 when it collected no test: that fails this script too (set -e).
exec .venv/bin/python -m pytest -q -p no:cacheprovider "$@"
