const { addItem, total } = require('../src/cart');
const { pace } = require('./pace');

describe('cart', () => {
  test('adds an item', async () => {
    await pace(2000);
    console.log('adding a book to the cart');
    expect(addItem([], { name: 'book', price: 12 })).toHaveLength(1);
  });

  test('computes the total', async () => {
    await pace(2500);
    expect(total([{ price: 12 }, { price: 8 }])).toBe(20);
  });

  // Fails on purpose: the example shows how a failure is streamed (message, stack, expected/actual).
  test('applies a discount (fails on purpose)', async () => {
    await pace(3000);
    expect(total([{ price: 10 }], { discount: 0.1 })).toBe(9);
  });

  test.skip('ships abroad', () => {});

  test.todo('supports gift cards');
});
