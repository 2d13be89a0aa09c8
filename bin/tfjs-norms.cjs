#!/usr/bin/env node
// The `tfjs-norms` command (see src/cli/main.ts); runs the CommonJS build.
require('../dist/cjs/src/cli/main.js').main(process.argv);
