// Jest runs the TypeScript sources through ts-jest as CommonJS; the `.js` suffixes of
// relative imports (needed for the ESM build) are mapped back to the `.ts` sources.
const common = {
  testEnvironment: 'node',
  moduleNameMapper: {'^(\\.{1,2}/.*)\\.js$': '$1'},
  setupFiles: ['<rootDir>/test/support/setup_env.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', {
      tsconfig: {module: 'commonjs', moduleResolution: 'node', esModuleInterop: true,
                 types: ['node', 'jest']},
    }],
  },
};

const OP_SUITES = ['<rootDir>/test/ops/**/*.test.ts', '<rootDir>/test/kernels/**/*.test.ts',
                   '<rootDir>/test/layers/**/*.test.ts'];

// These suites train convolutional models: tfjs-backend-wasm 4.22 has no Conv2DBackpropFilter.
const NO_WASM_TRAINING = ['/node_modules/', '<rootDir>/test/layers/fit.test.ts', '<rootDir>/test/layers/inplace_abn.test.ts',
                          '<rootDir>/test/layers/default_layers.test.ts'];

export default {
  testTimeout: 120000,
  // One project per backend; the webgl and tensorflow suites fail (never skip) when their
  // backend cannot start.
  projects: [
    {...common, displayName: 'cpu', testMatch: ['<rootDir>/test/**/*.test.ts'],
     testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/webgl/', '<rootDir>/test/tensorflow/', '<rootDir>/test/wasm/']},
    {...common, displayName: 'webgl', testMatch: ['<rootDir>/test/webgl/**/*.test.ts']},
    // The op, kernel and layer suites again on other backends (test/support/backend.ts): wasm
    // with our wasm kernels, wasm without them and cpu with ours forced off (the composite path).
    {...common, displayName: 'wasm', testMatch: OP_SUITES, testPathIgnorePatterns: NO_WASM_TRAINING,
     globals: {TFJS_NORMS_TEST: {backend: 'wasm', kernels: 'fused'}}},
    {...common, displayName: 'composite-wasm', testMatch: OP_SUITES, testPathIgnorePatterns: NO_WASM_TRAINING,
     globals: {TFJS_NORMS_TEST: {backend: 'wasm', kernels: 'composite'}}},
    {...common, displayName: 'composite-cpu', testMatch: OP_SUITES,
     globals: {TFJS_NORMS_TEST: {backend: 'cpu', kernels: 'composite'}}},
    {...common, displayName: 'wasm-browser', testMatch: ['<rootDir>/test/wasm/**/*.test.ts']},
    {...common, displayName: 'tensorflow', testMatch: ['<rootDir>/test/tensorflow/**/*.test.ts']},
  ],
};
