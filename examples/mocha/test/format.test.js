const assert = require('node:assert');
const { pace } = require('./pace.js');

describe('formatPrice', () => {
  const format = (cents) => `$${(cents / 100).toFixed(2)}`;

  it('formats cents as dollars', async () => {
    await pace(1500);
    assert.strictEqual(format(1999), '$19.99');
  });

  it('pads whole dollars', async () => {
    await pace(1500);
    assert.strictEqual(format(500), '$5.00');
  });
});
