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

export default {
  testTimeout: 120000,
  // One project per backend; the webgl and tensorflow suites fail (never skip) when their
  // backend cannot start.
  projects: [
    {...common, displayName: 'cpu', testMatch: ['<rootDir>/test/**/*.test.ts'],
     testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/webgl/', '<rootDir>/test/tensorflow/']},
    {...common, displayName: 'webgl', testMatch: ['<rootDir>/test/webgl/**/*.test.ts']},
    {...common, displayName: 'tensorflow', testMatch: ['<rootDir>/test/tensorflow/**/*.test.ts']},
  ],
};
