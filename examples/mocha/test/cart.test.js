const assert = require('node:assert');
const { Cart } = require('../src/cart.js');
const { pace } = require('./pace.js');

describe('Cart', () => {
  let cart;

  beforeEach(() => {
    cart = new Cart();
  });

  it('starts empty', async () => {
    await pace(1500);
    assert.strictEqual(cart.total(), 0);
  });

  it('adds up line items', async () => {
    await pace(2000);
    cart.add('book', 12.5, 2);
    cart.add('pen', 1.25);
    console.log('cart lines:', cart.lines.length);
    assert.strictEqual(cart.total(), 26.25);
  });

  it('applies a percentage discount', async () => {
    await pace(2500);
    cart.add('lamp', 40);
    // Deliberately wrong expectation: shows a failure with expected/actual on the stream.
    assert.strictEqual(cart.total({ discount: 10 }), 35);
  });

  it.skip('charges shipping abroad', () => {
    cart.add('globe', 30);
    assert.ok(cart.total({ country: 'FR' }) > 30);
  });

  it('supports gift wrapping');

  describe('checkout', () => {
    it('reserves stock (a flaky service: fails once, passes on retry)', async function () {
      this.retries(2);
      await pace(1500);
      await reserveStock();
    });

    it('talks to the payment provider (slow)', async function () {
      this.timeout(15_000);
      await new Promise((resolve) => setTimeout(resolve, 800));
      await pace(6200);
      console.warn('payment provider answered slowly');
    });
  });
});

let reservations = 0;
async function reserveStock() {
  reservations++;
  if (reservations === 1) throw new Error('stock service unavailable (503)');
}
