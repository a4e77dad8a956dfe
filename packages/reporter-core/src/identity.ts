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

/** A test's identity with the ref it was built from (compared field by field on every lookup). */
interface CachedTest {
  file: string;
  /** The identity's own titlePath: equal, title by title, to the ref's it was built from. */
  titlePath: readonly string[];
  project: string | undefined;
  repeatIndex: number | undefined;
  ordinal: number;
  line: number | undefined;
  column: number | undefined;
  declaredIn: string | undefined;
  identity: TestIdentity;
  /** The next cached test of the same file and last title (twins, repeats, projects). */
  next: CachedTest | undefined;
}

/** Tests whose identity is remembered; beyond this the cache starts over (memory stays bounded). */
const MAX_CACHED_TESTS = 100_000;

/**
 * Test identities of one reporter: stable id (see ids.ts, docs/protocol.md "Test ids"), root-relative file,
 * suite, location. Remembered by content — adapters name a test at its start, output and result, some with
 * one ref object per test, others with a new one per call, and calls that crossed to the worker thread come
 * with refs of their own (a start and its result share one) — and the last ref looked up by object.
 *
 * Looked up for every call of every test: by file, then last title, then field by field, so a lookup builds
 * no key and a cached test holds nothing but its identity and the raw fields it was built from.
 */
export class Identities {
  private readonly byFile = new Map<string, Map<unknown, CachedTest>>();
  /**
   * One `{file}` location per file, shared by the identities of its tests when the runner gives no line: an
   * identity lives as long as its run, and one object per test is kept (and copied by the GC) for nothing.
   */
  private readonly fileLocations = new Map<string, TestIdentity['location']>();
  /** Describe blocks' titles and suites (see keep). */
  private readonly kept = new Map<string, string>();
  /**
   * Tests cached since the last clear, forgotten ones included: it bounds the describe titles, suites and
   * files kept beside them too, which forgetting a test does not shrink.
   */
  private size = 0;
  /** The ref looked up last and its entry: a test's result usually comes with its start's ref. */
  private lastRef: TestRef | undefined;
  private lastCached: CachedTest | undefined;

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
    // sameTest: the ref may have been changed since (the cached fields have not).
    const last = this.lastCached;
    if (test === this.lastRef && last && sameTest(last, test)) return last.identity;
    const title = test.titlePath[test.titlePath.length - 1];
    let byTitle = this.byFile.get(test.file);
    let cached = byTitle?.get(title);
    while (cached && !sameTest(cached, test)) cached = cached.next;
    if (!cached) {
      const identity = this.build(test);
      const fresh: CachedTest = {
        file: test.file,
        titlePath: identity.titlePath,
        project: test.project,
        repeatIndex: test.repeatIndex,
        ordinal: test.ordinal ?? 0,
        line: test.line,
        column: test.column,
        declaredIn: test.declaredIn,
        identity,
        next: undefined,
      };
      // A title that is not a string never equals its identity's: computed every time, never cached.
      if (!sameTest(fresh, test)) return identity;
      if (this.size >= MAX_CACHED_TESTS) {
        this.byFile.clear();
        this.fileLocations.clear();
        this.kept.clear();
        this.size = 0;
        byTitle = undefined;
      }
      if (!byTitle) {
        byTitle = new Map();
        this.byFile.set(test.file, byTitle);
      }
      fresh.next = byTitle.get(title);
      byTitle.set(title, fresh);
      this.size++;
      cached = fresh;
    }
    this.lastRef = test;
    this.lastCached = cached;
    return cached.identity;
  }

  /**
   * Forgets a test's cached identity: its last result came, and what may still name it (output, a hook that
   * fails after it) is rare enough to compute it again. Kept, every test of a run would stay in memory to
   * the end, copied along by the garbage collector; the id's strings live on in the run's state.
   */
  forget(test: TestRef): void {
    if (!test || typeof test.file !== 'string' || !Array.isArray(test.titlePath)) return;
    const byTitle = this.byFile.get(test.file);
    const title = test.titlePath[test.titlePath.length - 1];
    let previous: CachedTest | undefined;
    for (let cached = byTitle?.get(title); cached; previous = cached, cached = cached.next) {
      if (!sameTest(cached, test)) continue;
      if (previous) previous.next = cached.next;
      else if (cached.next) byTitle?.set(title, cached.next);
      else byTitle?.delete(title);
      if (this.lastCached === cached) {
        this.lastRef = undefined;
        this.lastCached = undefined;
      }
      return;
    }
  }

  /** The root-relative form of a file as a runner gives it. */
  file(file: string): string {
    return this.paths.file(file);
  }

  /**
   * One string for each describe block's title and each suite, shared by the identities of the block's tests:
   * titles that crossed from the runner's thread are strings of their own for every test, and an identity
   * lives as long as its run.
   */
  private keep(text: string): string {
    const kept = this.kept.get(text);
    if (kept !== undefined) return kept;
    this.kept.set(text, text);
    return text;
  }

  /** The `{file}` location the tests of a file share when the runner gives no line. */
  private locationOf(file: string): TestIdentity['location'] {
    let location = this.fileLocations.get(file);
    if (!location) {
      location = { file };
      this.fileLocations.set(file, location);
    }
    return location;
  }

  private build(test: TestRef): TestIdentity {
    const file = this.paths.file(test.file);
    const last = test.titlePath.length - 1;
    const titlePath = test.titlePath.map((title, i) =>
      i < last && typeof title === 'string' ? this.keep(title) : String(title),
    );
    const line = positiveInt(test.line);
    const column = positiveInt(test.column);
    // Declared in another file (a helper module): the location is there, and `line` (a line of `file`) is not set.
    const declaredIn = typeof test.declaredIn === 'string' ? this.paths.file(test.declaredIn) : file;
    const location = line || column ? { file: declaredIn } : this.locationOf(declaredIn);
    if (line) location.line = line;
    if (column) location.column = column;
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
      suite: last > 0 ? this.keep(titlePath.slice(0, -1).join(' > ')) : '',
      file,
      location,
    };
    if (line && declaredIn === file) identity.line = line;
    if (test.project) identity.project = test.project;
    if (test.repeatIndex !== undefined) identity.repeatIndex = test.repeatIndex;
    return identity;
  }
}

/** True when `test` names the cached test: every field its identity depends on is the same. */
function sameTest(cached: CachedTest, test: TestRef): boolean {
  if (
    cached.file !== test.file ||
    cached.project !== test.project ||
    cached.repeatIndex !== test.repeatIndex ||
    cached.ordinal !== (test.ordinal ?? 0) ||
    cached.line !== test.line ||
    cached.column !== test.column ||
    cached.declaredIn !== test.declaredIn
  )
    return false;
  const path = test.titlePath;
  const titles = cached.titlePath;
  if (titles.length !== path.length) return false;
  for (let i = 0; i < path.length; i++) if (titles[i] !== path[i]) return false;
  return true;
}

export function positiveInt(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : undefined;
}
