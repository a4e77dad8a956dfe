/** A tiny module for the example tests to exercise. */
function addItem(items, item) {
  return [...items, item];
}

function total(items, options = {}) {
  const sum = items.reduce((acc, item) => acc + item.price, 0);
  // Bug kept on purpose for the failing example test: the discount is ignored.
  void options.discount;
  return sum;
}

module.exports = { addItem, total };
