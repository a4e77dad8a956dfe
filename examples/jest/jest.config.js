const { paced } = require('./test/pace');

/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  // The only testwire line ('@testwire/jest' alone works; slowTestThreshold lowered so that the slow
  // test below emits performance.bottleneck — in the paced demo every test takes seconds, so 5 s there).
  reporters: ['default', ['@testwire/jest', { slowTestThreshold: paced ? 5000 : 500 }]],
  // Coverage as a project would have it: testwire streams coverage.threshold and coverage.completed.
  collectCoverage: true,
  coveragePathIgnorePatterns: ['/node_modules/', '<rootDir>/test/'],
  coverageReporters: ['text-summary'],
  coverageThreshold: { global: { lines: 50 } },
};
