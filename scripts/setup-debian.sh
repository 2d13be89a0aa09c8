#!/usr/bin/env bash
# Installs the Debian packages the tests, benchmarks and demo need, when they are missing:
# chromium (/usr/bin/chromium, driven headless by playwright-core for the webgl suites) and the
# tools `tfjs-norms setup-node` (src/cli/setup_node.ts) uses to build tfjs-node's addon (python3
# with pip, g++, make), openmpi-bin (`mpirun`, for test/collective/env_engines.test.ts, which starts
# ranks under OpenMPI), Slurm with munge (test/collective/env_slurm.test.ts starts a one-node
# Slurm of its own; the packages' own services are not used), shellcheck (doc checks) and clang
# with lld (the WebAssembly SIMD loops, scripts/build-simd.sh).
# Idempotent and instant when everything is there. Never downloads a browser from anywhere
# but the system's package manager.
set -euo pipefail
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
python3 -m pip --version >/dev/null 2>&1 || missing+=(python3-pip)
command -v g++ >/dev/null 2>&1 || missing+=(g++)
command -v make >/dev/null 2>&1 || missing+=(make)
command -v mpirun >/dev/null 2>&1 || missing+=(openmpi-bin)
command -v slurmctld >/dev/null 2>&1 || missing+=(slurmctld)
command -v slurmd >/dev/null 2>&1 || missing+=(slurmd)
command -v sbatch >/dev/null 2>&1 || missing+=(slurm-client)
command -v munged >/dev/null 2>&1 || missing+=(munge)
command -v shellcheck >/dev/null 2>&1 || missing+=(shellcheck)
# clang and lld (wasm-ld) build the WebAssembly SIMD loops (scripts/build-simd.sh); the test that
# rebuilds them also reads llvm-objdump (package llvm).
command -v clang-14 >/dev/null 2>&1 || command -v clang >/dev/null 2>&1 || missing+=(clang)
command -v wasm-ld-14 >/dev/null 2>&1 || command -v wasm-ld >/dev/null 2>&1 || missing+=(lld)
command -v llvm-objdump >/dev/null 2>&1 || [ -x /usr/lib/llvm-14/bin/llvm-objdump ] || missing+=(llvm)
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
for tool in mpirun slurmctld slurmd sbatch munged shellcheck; do command -v "$tool" >/dev/null; done
# The SIMD build accepts either the versioned or the plain names (scripts/build-simd.sh).
{ command -v clang-14 || command -v clang; } >/dev/null || { echo "setup-debian: clang missing after install" >&2; exit 1; }
{ command -v wasm-ld-14 || command -v wasm-ld; } >/dev/null || { echo "setup-debian: wasm-ld missing after install" >&2; exit 1; }
