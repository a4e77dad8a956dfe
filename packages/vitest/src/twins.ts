import type { VitestTestCase, VitestTestModule, VitestTestSuite } from './vitest-types.js';

/**
 * Ordinals of tests that share a title path in one file (`test.each` rows with the same name, a copy-pasted
 * `it('works')`, `describe.each` blocks with the same title): 0 for the first in declaration order, 1 for
 * the second… (TestRef.ordinal). Vitest collects a whole file before running it, so its tree gives the
 * declaration order, concurrent tests included; a retry is the same TestCase, so it keeps its ordinal.
 */
export class TwinOrdinals {
  private readonly byModule = new WeakMap<VitestTestModule, Map<VitestTestCase, number>>();

  of(testCase: VitestTestCase): number {
    let ordinals = this.byModule.get(testCase.module);
    if (!ordinals?.has(testCase)) {
      // First test of the file, or one its tree did not hold when it was numbered: number the file again.
      ordinals = numberTwins(testCase.module);
      this.byModule.set(testCase.module, ordinals);
    }
    return ordinals.get(testCase) ?? 0;
  }
}

function numberTwins(module: VitestTestModule): Map<VitestTestCase, number> {
  const seen = new Map<string, number>();
  const ordinals = new Map<VitestTestCase, number>();
  for (const test of module.children.allTests()) {
    const key = JSON.stringify([...titlesOf(test.parent), test.name]);
    const ordinal = seen.get(key) ?? 0;
    seen.set(key, ordinal + 1);
    ordinals.set(test, ordinal);
  }
  return ordinals;
}

/** Describe titles from the file down to `parent`. */
export function titlesOf(parent: VitestTestSuite | VitestTestModule): string[] {
  const titles: string[] = [];
  let node: VitestTestSuite | VitestTestModule | undefined = parent;
  while (node && node.type === 'suite') {
    titles.unshift(node.name);
    node = node.parent;
  }
  return titles;
}
