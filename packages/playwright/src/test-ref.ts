/**
 * Playwright `TestCase` -> reporter-core `TestRef`: the identity testwire derives its stable id from.
 *
 *   root suite ('')
 *   └─ project suite ('chromium')          -> TestRef.project
 *      └─ file suite ('math.spec.ts')      -> TestRef.file (relative to config.rootDir, '/')
 *         └─ describe ('math') …           -> TestRef.titlePath = [...describes, test title]
 *            └─ test ('adds')              -> TestRef.line/column (test.location; .declaredIn: its file, when
 *                                               not the file suite's)
 *
 * The file is the file suite's, not `test.location.file`: a test declared in a helper module that several
 * spec files call is located in the helper for all of them, yet it is one test per spec file (Playwright's
 * JSON and HTML reports list it under each, and forbid two same titles only within one file suite).
 */
import path from 'node:path';
import type { Suite, TestCase } from '@playwright/test/reporter';
import { PathRelativizer, type TestRef } from '@testwire/reporter-core';

/** `file` relative to `rootDir`, with `/` separators (no absolute paths go on the wire). */
export function relativeFile(rootDir: string, file: string): string {
  if (!path.isAbsolute(file)) return file.split(path.sep).join('/');
  return path.relative(rootDir, file).split(path.sep).join('/');
}

/**
 * Describe titles then the test title. Anonymous `test.describe(() => …)` groups have an empty title and
 * are left out, as Playwright's own reporters leave them out of the test's full title.
 */
export function titlePathOf(test: TestCase): string[] {
  const titles: string[] = [];
  let suite: Suite | undefined = test.parent;
  // Suite.type exists since Playwright 1.44; older versions get the fixed root/project/file prefix cut.
  if (suite && typeof suite.type === 'string') {
    for (; suite && suite.type === 'describe'; suite = suite.parent) {
      if (suite.title) titles.unshift(suite.title);
    }
    return [...titles, test.title];
  }
  return [...test.titlePath().slice(3, -1).filter(Boolean), test.title];
}

/** A suite's kind: `type` since Playwright 1.44, the same value as `_type` before. */
function suiteType(suite: Suite): unknown {
  return typeof suite.type === 'string' ? suite.type : (suite as unknown as { _type?: unknown })._type;
}

/**
 * The spec file a test was collected in: its file suite's file (the suite's `location.file`, as Playwright's
 * JSON report reads it). That is `test.location.file` unless the test is declared in another module the spec
 * file calls. A test outside any file suite (none in a real run) keeps its declaration's file.
 */
export function specFileOf(test: TestCase): string {
  for (let suite: Suite | undefined = test.parent; suite; suite = suite.parent) {
    if (suiteType(suite) !== 'file') continue;
    const file = suite.location?.file;
    return typeof file === 'string' && file ? file : test.location.file;
  }
  return test.location.file;
}

/** The Playwright project a test belongs to; `undefined` for the unnamed default project. */
export function projectOf(test: TestCase): string | undefined {
  return test.parent?.project()?.name || undefined;
}

/**
 * Builds refs and caches them per test: a test's ref is asked for on every attempt and every output chunk,
 * and Playwright keeps one `TestCase` object per test for the whole run.
 */
export class TestRefs {
  readonly #cache = new WeakMap<TestCase, TestRef>();
  /**
   * The run's projects that share their name with another (two unnamed ones, two named `x`), by their
   * position among those: their tests are told apart as `x#1`, `x#2` (`#1`, `#2` unnamed). A name of its own
   * stays as it is, an only unnamed project has none: the ids of a usual config do not change.
   */
  #sharedNames = new Map<unknown, string>();
  /** Root-relative paths, remembered per file (a run has few files and many tests). */
  readonly #paths: PathRelativizer;

  constructor(rootDir: string) {
    this.#paths = PathRelativizer.forRoot(rootDir);
  }

  /** The run's projects, from its root suite (one suite per project, in the config's order). */
  useProjects(root: Suite): void {
    const byName = new Map<string, unknown[]>();
    for (const suite of root.suites) {
      const project = suite.project();
      if (!project) continue;
      const name = project.name ?? '';
      byName.set(name, [...(byName.get(name) ?? []), project]);
    }
    this.#sharedNames = new Map();
    for (const [name, projects] of byName) {
      if (projects.length < 2) continue;
      for (const [i, project] of projects.entries()) this.#sharedNames.set(project, `${name}#${i + 1}`);
    }
  }

  get(test: TestCase): TestRef {
    let ref = this.#cache.get(test);
    if (!ref) {
      const file = specFileOf(test);
      ref = {
        file: this.#paths.file(file),
        titlePath: titlePathOf(test),
        project: this.#sharedNames.get(test.parent?.project()) ?? projectOf(test),
        repeatIndex: test.repeatEachIndex,
      };
      // A test declared in a helper module: its location is there (as in Playwright's JSON report), its file
      // the spec's.
      if (file !== test.location.file) ref.declaredIn = this.#paths.file(test.location.file);
      ref.line = test.location.line;
      ref.column = test.location.column;
      this.#cache.set(test, ref);
    }
    return ref;
  }
}
