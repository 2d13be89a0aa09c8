#!/usr/bin/env bash
# Installs everything the tests, benchmarks and demo need, on a fresh machine or an existing
# checkout (idempotent and quick when already done). Only the npm registry, PyPI and Debian's
# packages are used.
set -euo pipefail
cd "$(dirname "$0")/.."

# Dependencies' install scripts are not run: tfjs-node's downloads libtensorflow from a host
# this environment cannot reach; `tfjs-norms setup-node` (src/cli/setup_node.ts) builds its addon instead.
stamp=node_modules/.tfjs-norms-installed
if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ]; then
  echo "setup: npm ci --ignore-scripts"
  npm ci --ignore-scripts --no-audit --no-fund
  touch "$stamp"
fi

# Debian packages: chromium for the webgl suites and benchmarks (never a downloaded browser),
# python3-pip, g++ and make for the tfjs-node addon below; for the cluster-engine tests and
# doc checks: openmpi-bin, Slurm with munge, and the shell linter shellcheck.
bash scripts/setup-debian.sh

# kubernetes-validate (PyPI) for the Kubernetes manifest in docs/distributed.md; kept apart from
# the system's Python packages.
pytools=.cache/pytools/validate
if [ ! -f "$pytools/.installed" ] || [ scripts/requirements-validate.txt -nt "$pytools/.installed" ]; then
  echo "setup: pip install --target $pytools -r scripts/requirements-validate.txt"
  rm -rf "$pytools"
  python3 -m pip install --disable-pip-version-check --root-user-action=ignore --quiet --no-warn-script-location \
    --target "$pytools" -r scripts/requirements-validate.txt
  touch "$pytools/.installed"
fi

# A loadable @tensorflow/tfjs-node: the normal package when it loads, else its addon built from
# the npm package's source against libtensorflow from PyPI (cached under .cache/tfjs-node/).
npx tsx scripts/setup-node.ts
