#!/usr/bin/env bash
# Generates a Python client from the committed OpenAPI document and runs the README's
# walk-through with it against a live server.
#
#   BASE_URL=http://127.0.0.1:8080 OWNER_USERNAME=owner@example.com OWNER_PASSWORD=… \
#     bash clients/python/run.sh
#
# Optional: NEW_OWNER_PASSWORD (used when the owner must change a temporary password),
# PYTHON (interpreter for the venv, default python3; needs >= 3.11).
set -euo pipefail
cd "$(dirname "$0")"

: "${BASE_URL:?set BASE_URL, e.g. http://127.0.0.1:8080}"
: "${OWNER_USERNAME:?set OWNER_USERNAME}"
: "${OWNER_PASSWORD:?set OWNER_PASSWORD}"

PYTHON=${PYTHON:-python3}
"$PYTHON" - <<'PY' || { echo "error: $PYTHON is older than Python 3.11" >&2; exit 1; }
import sys
sys.exit(0 if sys.version_info >= (3, 11) else 1)
PY

echo "== venv (clients/python/.venv)"
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install --disable-pip-version-check -q -r requirements.txt

echo "== generate client from openapi/openapi.json"
# .venv/bin first on PATH: the generator formats its output with the pinned ruff.
# --fail-on-warning: a part of the document the generator cannot turn into code fails the run.
rm -rf generated
PATH="$PWD/.venv/bin:$PATH" openapi-python-client generate \
  --path ../../openapi/openapi.json \
  --output-path generated/license_manager_client \
  --meta none --overwrite --fail-on-warning

echo "== walk-through"
PYTHONPATH="$PWD/generated" exec .venv/bin/python walkthrough.py
