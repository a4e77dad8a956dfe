/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  // The only testwire line ('@testwire/jest' alone works; slowTestThreshold lowered so that the slow
  // test below emits performance.bottleneck).
  reporters: ['default', ['@testwire/jest', { slowTestThreshold: 500 }]],
};
