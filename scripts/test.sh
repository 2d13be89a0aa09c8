#!/usr/bin/env bash
# The whole test suite: set-up, build, lint, type check, then every jest project. Prints a
# closing line "tests: N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
npm run --silent build
npx eslint .
npx tsc -p tsconfig.json --noEmit

# TensorFlow's INFO lines (oneDNN, CPU features) would drown the test output.
export TF_CPP_MIN_LOG_LEVEL=${TF_CPP_MIN_LOG_LEVEL:-2}

report=$(mktemp)
status=0
npx jest --json --outputFile="$report" "$@" || status=$?
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  console.log(`tests: ${r.numPassedTests} passed, ${r.numFailedTests + r.numRuntimeErrorTestSuites} failed`);
  if (r.numTotalTests === 0) { console.error("no tests ran"); process.exit(1); }
' "$report" || status=1
rm -f "$report"
exit $status
