import { PathNode } from '@testwire/reporter-core';
import type { VitestTestCase, VitestTestModule, VitestTestSuite } from './vitest-types.js';

type Parent = VitestTestSuite | VitestTestModule;

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
      const numbered = new Map<VitestTestCase, number>();
      numberTwins(testsOf(testCase.module), (test, ordinal) => numbered.set(test, ordinal));
      ordinals = numbered;
      this.byModule.set(testCase.module, ordinals);
    }
    return ordinals.get(testCase) ?? 0;
  }
}

/**
 * Hands each test of a file (in declaration order) its ordinal among the tests that share its title path:
 * a walk of the file's tree, one node per describe, no key string per test.
 */
export function numberTwins(
  tests: Iterable<VitestTestCase>,
  each: (test: VitestTestCase, ordinal: number) => void,
): void {
  const root = new PathNode<number>();
  const nodes = new Map<Parent, PathNode<number>>();
  const nodeOf = (parent: Parent | undefined): PathNode<number> => {
    if (parent?.type !== 'suite') return root;
    let node = nodes.get(parent);
    if (!node) {
      node = nodeOf(parent.parent).child(parent.name);
      nodes.set(parent, node);
    }
    return node;
  };
  // A file's tests come block by block: the node of the last test's block is looked up once per block.
  let lastParent: Parent | undefined;
  let lastNode = root;
  for (const test of tests) {
    const parent = test.parent;
    if (parent !== lastParent) {
      lastParent = parent;
      lastNode = nodeOf(parent);
    }
    const leaf = lastNode.child(test.name);
    const ordinal = leaf.value ?? 0;
    leaf.value = ordinal + 1;
    each(test, ordinal);
  }
}

/**
 * A file's tests in declaration order, as `allTests()` gives them. Vitest's collections are generators
 * (`allTests` delegates with `yield*` through every describe level, and each child is looked up in a WeakMap):
 * where the collection has `size` and `at()` (Vitest >= 3), the tree is walked by index instead, one lookup
 * per child and no generator.
 */
export function testsOf(testModule: VitestTestModule): VitestTestCase[] {
  const children = testModule.children;
  if (typeof children.at !== 'function' || typeof children.size !== 'number') return [...children.allTests()];
  const tests: VitestTestCase[] = [];
  walk(children, tests);
  return tests;
}

function walk(collection: VitestTestModule['children'], tests: VitestTestCase[]): void {
  const size = collection.size ?? 0;
  for (let index = 0; index < size; index++) {
    const child = collection.at?.(index);
    // As allTests(): every child that is not a suite is a test.
    if (child?.type === 'suite') walk(child.children, tests);
    else if (child) tests.push(child);
  }
}

/** Describe titles from the file down to `parent`. */
export function titlesOf(parent: Parent): string[] {
  const titles: string[] = [];
  let node: Parent | undefined = parent;
  while (node && node.type === 'suite') {
    titles.unshift(node.name);
    node = node.parent;
  }
  return titles;
}

/** titlesOf, remembered per describe block: the tests of a block share its titles (copy before changing). */
export class SuiteTitles {
  private readonly byParent = new WeakMap<Parent, readonly string[]>();
  /** The block asked last: the tests of a block are asked one after the other. */
  private lastParent: Parent | undefined;
  private lastTitles: readonly string[] = [];

  of(parent: Parent): readonly string[] {
    if (parent === this.lastParent) return this.lastTitles;
    if (typeof parent !== 'object' || parent === null) return titlesOf(parent);
    let titles = this.byParent.get(parent);
    if (!titles) {
      titles = titlesOf(parent);
      this.byParent.set(parent, titles);
    }
    this.lastParent = parent;
    this.lastTitles = titles;
    return titles;
  }
}
