#!/usr/bin/env sh
# The web UI's set-up: Debian's Chromium for the browser tests (a test tool cannot download
# its own browser here) and the npm packages the page bundles locally (no network at run time).
set -eu
cd "$(dirname "$0")/.."
if ! command -v chromium >/dev/null 2>&1; then
    echo "installing Chromium (Debian package chromium) for the browser tests"
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends chromium
fi
npm ci --no-audit --no-fund --loglevel=error
mkdir -p web/vendor
cp node_modules/lightweight-charts/dist/lightweight-charts.standalone.production.js \
   web/vendor/lightweight-charts.js
