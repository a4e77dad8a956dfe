/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  // The only testwire line ('@testwire/jest' alone works; slowTestThreshold lowered so that the slow
  // test below emits performance.bottleneck).
  reporters: ['default', ['@testwire/jest', { slowTestThreshold: 500 }]],
  // Coverage as a project would have it: testwire streams coverage.threshold and coverage.completed.
  collectCoverage: true,
  coverageReporters: ['text-summary'],
  coverageThreshold: { global: { lines: 50 } },
};
