/** A tiny shopping cart: the code under test of the example. */
class Cart {
  constructor() {
    this.lines = [];
  }

  add(name, price, quantity = 1) {
    this.lines.push({ name, price, quantity });
  }

  total({ discount = 0 } = {}) {
    const sum = this.lines.reduce((acc, line) => acc + line.price * line.quantity, 0);
    return Math.round(sum * (100 - discount)) / 100;
  }
}

module.exports = { Cart };
