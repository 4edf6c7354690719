#!/usr/bin/env bash
# Installs Debian's Chromium for the console's browser tests (chromedp) when
# it is missing and we can (root with apt-get). Idempotent; sourcing or
# running it twice does nothing more. Without it the browser tests are
# skipped (and fail when CI=true).
set -euo pipefail
if command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ]; then
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "== installing chromium"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null
else
  echo "warning: no chromium and cannot install it; the console browser tests will be skipped" >&2
fi
