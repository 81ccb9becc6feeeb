/** Jest: TypeScript through ts-jest (transpile only; `tsc --noEmit` type-checks separately). */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.[tj]s$': ['ts-jest', { tsconfig: 'tsconfig.jest.json' }] },
  // ESM-only dependencies (jose; otplib's @scure and @noble, also nested under @otplib) are transpiled to CommonJS for Jest;
  // the build output (dist/, e.g. the generated schema validators) is JavaScript already.
  transformIgnorePatterns: ['/node_modules/(?!(jose|@scure|@noble|@otplib)/)', '<rootDir>/dist/'],
  collectCoverageFrom: ['server/**/*.ts', 'resources/**/*.ts', 'integrations/**/*.ts', 'profiles/**/*.ts'],
  coverageReporters: ['text-summary', 'json-summary'],
  // Per top-level folder, so a well-tested folder cannot hide a poorly tested one.
  coverageThreshold: Object.fromEntries(
    ['server', 'resources', 'integrations', 'profiles'].map((dir) => [`./${dir}/`, { lines: 90, branches: 80 }]),
  ),
  // Tests that start server processes and worker threads need headroom on a busy 2-core machine.
  testTimeout: 180000,
  maxWorkers: 2,
};
