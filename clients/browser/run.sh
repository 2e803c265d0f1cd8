#!/usr/bin/env bash
# Swagger UI check in Debian's Chromium against a live server.
# Needs BASE_URL (e.g. http://127.0.0.1:18080), OWNER_USERNAME and OWNER_PASSWORD;
# SCREENSHOT (default ../../target/swagger-ui.png, relative to this folder) names the PNG.
set -euo pipefail
cd "$(dirname "$0")"

command -v chromium >/dev/null || (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium)
export CHROMIUM="${CHROMIUM:-$(command -v chromium)}"
npm ci --no-audit --no-fund
node swagger.mjs
