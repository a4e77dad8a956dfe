import type { TestRef } from './api.js';
import { type PathRelativizer, stableTestId } from './ids.js';

/** What every event about one test carries; computed once per test (a SHA-1 and path work). */
export interface TestIdentity {
  id: string;
  titlePath: string[];
  testName: string;
  suite: string;
  file: string;
  location: { file: string; line?: number; column?: number };
  line?: number;
  project?: string;
  repeatIndex?: number;
}

interface CachedTest {
  ref: {
    file: string;
    titlePath: readonly string[];
    project?: string;
    repeatIndex?: number;
    ordinal?: number;
  };
  identity: TestIdentity;
}

/** Tests whose identity is remembered; beyond this the cache starts over (memory stays bounded). */
const MAX_CACHED_TESTS = 100_000;

/**
 * Test identities of one reporter: stable id (see ids.ts, docs/protocol.md "Test ids"), root-relative file,
 * suite, location. Remembered by TestRef object and by content — adapters name a test at its start, output
 * and result, some with one ref object per test, others with a new one per call.
 */
export class Identities {
  private readonly tests = new Map<string, CachedTest>();
  private readonly byRef = new WeakMap<TestRef, CachedTest>();

  constructor(
    private readonly framework: string,
    /** The package's project (package.json name or the `project` option). */
    private readonly project: string | undefined,
    private readonly paths: PathRelativizer,
  ) {}

  of(test: TestRef): TestIdentity {
    if (!test || typeof test.file !== 'string' || !Array.isArray(test.titlePath)) {
      throw new TypeError(`expected a TestRef {file: string, titlePath: string[]}, got ${typeof test}`);
    }
    const byRef = this.byRef.get(test);
    // sameTest: the ref may have been changed since (the cached copy of it has not).
    if (byRef && sameTest(byRef.ref, test)) return byRef.identity;
    const key = testKey(test);
    let cached = this.tests.get(key);
    if (!cached || !sameTest(cached.ref, test)) {
      const fresh: CachedTest = {
        ref: {
          file: test.file,
          titlePath: test.titlePath.slice(),
          project: test.project,
          repeatIndex: test.repeatIndex,
          ordinal: test.ordinal,
        },
        identity: this.build(test),
      };
      // A key collision (a title containing the separator) is computed every time, never cached.
      if (cached) return fresh.identity;
      if (this.tests.size >= MAX_CACHED_TESTS) this.tests.clear();
      this.tests.set(key, fresh);
      // Remembered by object on first sight only: an adapter that builds a new ref per call (jest) would
      // otherwise fill the WeakMap with garbage.
      this.byRef.set(test, fresh);
      cached = fresh;
    }
    return cached.identity;
  }

  /** The root-relative form of a file as a runner gives it. */
  file(file: string): string {
    return this.paths.file(file);
  }

  private build(test: TestRef): TestIdentity {
    const file = this.paths.file(test.file);
    const titlePath = test.titlePath.map(String);
    const line = positiveInt(test.line);
    const column = positiveInt(test.column);
    const identity: TestIdentity = {
      id: stableTestId({
        framework: this.framework,
        project: this.project,
        runnerProject: test.project,
        file,
        titlePath: test.titlePath,
        repeatIndex: test.repeatIndex,
        ordinal: test.ordinal,
      }),
      titlePath,
      testName: titlePath[titlePath.length - 1] ?? '',
      suite: titlePath.slice(0, -1).join(' > '),
      file,
      location: { file, ...(line ? { line } : {}), ...(column ? { column } : {}) },
    };
    if (line) identity.line = line;
    if (test.project) identity.project = test.project;
    if (test.repeatIndex !== undefined) identity.repeatIndex = test.repeatIndex;
    return identity;
  }
}

/** Cache key of a test: everything its identity depends on (checked against the entry by `sameTest`). */
function testKey(test: TestRef): string {
  return `${test.file}\u0000${test.project ?? ''}\u0000${test.repeatIndex ?? ''}\u0000${test.ordinal ?? 0}\u0000${test.line ?? ''}:${test.column ?? ''}\u0000${test.titlePath.join('\u0000')}`;
}

/** Guards the joined key against titles that contain the separator. */
function sameTest(cached: CachedTest['ref'], test: TestRef): boolean {
  if (
    cached.file !== test.file ||
    cached.project !== test.project ||
    cached.repeatIndex !== test.repeatIndex ||
    (cached.ordinal ?? 0) !== (test.ordinal ?? 0)
  )
    return false;
  const path = test.titlePath;
  if (cached.titlePath.length !== path.length) return false;
  for (let i = 0; i < path.length; i++) if (cached.titlePath[i] !== path[i]) return false;
  return true;
}

export function positiveInt(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : undefined;
}
