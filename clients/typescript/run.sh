#!/usr/bin/env bash
# Typed client check against a live server.
# Needs BASE_URL (e.g. http://127.0.0.1:18080), OWNER_USERNAME and OWNER_PASSWORD.
set -euo pipefail
cd "$(dirname "$0")"

npm ci --no-audit --no-fund
npx openapi-typescript ../../openapi/openapi.json -o src/schema.d.ts
npx tsc --noEmit
rm -rf dist
npx tsc
node dist/main.js
