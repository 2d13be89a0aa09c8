#!/usr/bin/env bash
# Installs the Debian packages the tests, benchmarks and demo need, when they are missing:
# chromium (/usr/bin/chromium, driven headless by playwright-core for the webgl suites) and the
# tools `tfjs-norms setup-node` (src/cli/setup_node.ts) uses to build tfjs-node's addon (python3 with pip,
# g++, make). Idempotent and instant when everything is there. Never downloads a browser from
# anywhere but the system's package manager.
set -euo pipefail
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
python3 -m pip --version >/dev/null 2>&1 || missing+=(python3-pip)
command -v g++ >/dev/null 2>&1 || missing+=(g++)
command -v make >/dev/null 2>&1 || missing+=(make)
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "setup-debian: missing ${missing[*]}; run as root: apt-get update && apt-get install -y ${missing[*]}" >&2
  exit 1
fi
echo "setup-debian: apt-get install -y ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends "${missing[@]}"
test -x /usr/bin/chromium
