// Jest runs the TypeScript sources through ts-jest as CommonJS; the `.js` suffixes of
// relative imports (needed for the ESM build) are mapped back to the `.ts` sources.
const common = {
  testEnvironment: 'node',
  moduleNameMapper: {'^(\\.{1,2}/.*)\\.js$': '$1'},
  transform: {
    '^.+\\.ts$': ['ts-jest', {
      tsconfig: {module: 'commonjs', moduleResolution: 'node', esModuleInterop: true,
                 types: ['node', 'jest']},
    }],
  },
};

export default {
  testTimeout: 120000,
  projects: [
    {...common, displayName: 'cpu', testMatch: ['<rootDir>/test/**/*.test.ts']},
  ],
};
