#!/usr/bin/env bash
# Installs Debian's chromium (/usr/bin/chromium), which the webgl tests and benchmarks drive
# headless through playwright-core. Idempotent and instant when it is already there. Never
# downloads a browser from anywhere but the system's package manager.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "setup-chromium: /usr/bin/chromium is missing; run as root: apt-get update && apt-get install -y chromium" >&2
  exit 1
fi
echo "setup-chromium: apt-get install -y chromium"
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends chromium
test -x /usr/bin/chromium
