const assert = require('node:assert');

describe('formatPrice', () => {
  const format = (cents) => `$${(cents / 100).toFixed(2)}`;

  it('formats cents as dollars', () => {
    assert.strictEqual(format(1999), '$19.99');
  });

  it('pads whole dollars', () => {
    assert.strictEqual(format(500), '$5.00');
  });
});
