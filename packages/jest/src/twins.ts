import { PathNode, type TestRef } from '@testwire/reporter-core';

/** One test of a file, among the tests that share its title path (its twins). */
export interface Twin {
  /** The test's ref, with its `ordinal` among its twins (and its location once a result gave it). */
  ref: TestRef;
  /** Highest attempt sent to the core (0: none yet). */
  attempts: number;
  /** Its last attempt failed (a later result with more invocations may be its retry). */
  failed: boolean;
  /** Its last attempt was streamed as retrying (`willRetry`). */
  retrying: boolean;
  /** The errors its last attempt was streamed with (jest 30 may add one in the file's result). */
  errors: number;
  /** Reported live (onTestCaseResult), not only in the file's result. */
  readonly live: boolean;
  /**
   * Attempts of this test streamed from workers that exited before (see `restarted`): jest's `invocations`
   * count again from 1 in each new worker, the stream's attempts go on from here.
   */
  readonly earlier: number;
  /** One of those earlier attempts failed (a pass now is then flaky). */
  readonly earlierFailed: boolean;
}

/** What the workers that exited streamed of one test: its attempts, and whether one failed. */
interface Earlier {
  attempts: number;
  failed: boolean;
}

/**
 * Which test a jest event is about when tests share a title path in one file.
 *
 * Jest names a test by its titles only: two `it('works')` in one describe, or `test.each` rows with the same
 * name, look alike in every hook. They are told apart by order (TestRef.ordinal), per key (project, file,
 * title path):
 * - starts arrive in declaration order, concurrent tests' too: a start is the twin after those that have a
 *   result or are running;
 * - live results arrive in declaration order on jest 29 (it awaits a block's tests one after the other,
 *   concurrent ones included) and a retry after its first attempt (jest runs a block's retries after its
 *   other tests): a result with `invocations` 1 is the next twin, one with `invocations` n the retry of the
 *   earliest twin whose attempt n-1 failed;
 * - jest 30 sends a concurrent test's result when it ends (`resultsInCompletionOrder`): a result that comes
 *   while another twin of its set runs may be that twin's. From then on the set is held: its live results are
 *   held back, and the file's result, in declaration order, sends them (a start that follows is told by its
 *   position, below) — except a result that can be told by its start time: jest 30 gives a test's start and its
 *   result the same `startedAt`, so a first attempt whose `startedAt` is that of exactly one start of its set
 *   with no result yet, a start whose test was told (streamed as running), is that test's, and is sent at once.
 *   Twins that start in one millisecond (concurrent ones, fast ones) cannot be told so: theirs wait;
 * - skipped tests never arrive live: they take the ordinals after the twins that ran, at the file's result,
 *   where jest lists every test once in declaration order;
 * - a start does not say its attempt: it is the next twin, unless an earlier twin failed — then it may be
 *   that twin's retry, and it is left to its result (no guess that could leave a wrong test "running");
 * - a start that comes while an earlier start of its set has no result yet is not told apart until those
 *   results came (`resultSent`): it may be the next twin, or the retry of a twin that failed — jest-circus runs
 *   a block's retries after its other tests, and a start reaches this reporter ahead of results sent before
 *   it (jest's own reporters have a result hook but no start hook, and jest's dispatcher awaits each reporter
 *   in turn), so a retry's start often comes before its first attempt's failed result. On jest 29 (one test
 *   at a time, concurrent ones too) those results say it: the next twin after passes, none after a failure
 *   (its result will say). On jest 30 a result that comes with two of its set running makes the set held
 *   (above), and which twin ended is not known: a start is then told by its position among the set's starts
 *   (starts come in declaration order, and a held set's results are sent in it), as long as no result of the
 *   set failed or came without a start (a todo): until then no start was a retry. It is decided, as on jest
 *   29, once as many results came as starts before it — theirs, or one sent after it started: results of one
 *   worker come in the order it sent them, so a failure sent before it started (the one a retry would follow)
 *   has come by then;
 * - after a worker exit jest runs the file again in a new worker (worker-restarts.ts), whose `invocations`
 *   count from 1 again: its tests are the same twins (same ordinals), their attempts going on (`restarted`).
 *
 * So a test's ordinal is its position among its twins that ran, then among its skipped twins: stable across
 * runs while the file's tests and their modes stay the same (docs/protocol.md, "Test ids").
 */
export class JestTwins {
  /**
   * @param resultsInCompletionOrder jest sends a concurrent test's live result when it ends (jest 30), not in
   * declaration order (jest 29).
   */
  constructor(private readonly resultsInCompletionOrder = true) {}

  private root = new PathNode<TwinSet>();
  /**
   * The node of the describe blocks the last lookup walked to, with what it was walked by: the hooks of one
   * test, and the tests of one block, come one after the other (compared part by part: no key string).
   */
  private last:
    | { project: string | undefined; file: string; titles: string[]; node: PathNode<TwinSet> }
    | undefined;

  /**
   * The set the last lookup found, with its block and title: a test's start and its live result come one
   * after the other, and the result's lookup is then a comparison.
   */
  private lastSet: TwinSet | undefined;
  private lastSetBlock: PathNode<TwinSet> | undefined;
  private lastSetTitle = '';
  /**
   * Per file (by project, then path): its sets this run, and once a worker exit made jest run it again, what
   * the workers before streamed of each test, by title path (`titleKey`) and ordinal.
   */
  private files = new PathNode<FileSets>();

  /** A new run: nothing seen yet. */
  reset(): void {
    this.root = new PathNode();
    this.files = new PathNode();
    this.last = undefined;
    this.lastSet = undefined;
    this.lastSetBlock = undefined;
  }

  /**
   * Jest runs `file` again in a new worker process (worker-restarts.ts), after the tests it left running
   * failed with the exit (`crashed`): the new worker's tests are the same tests, their attempts going on
   * after those streamed so far (jest's `invocations` count from 1 again). The file's sets start again, as if
   * the file had just started.
   */
  restarted(project: string | undefined, file: string): void {
    const fileSets = this.files.child(project ?? '').child(file).value;
    if (!fileSets) return;
    fileSets.earlier ??= new Map();
    const earlier = fileSets.earlier;
    for (const set of fileSets.sets) {
      const title = titleKey(set.base);
      // Its crashed tests' attempts are there already (`crashed`).
      let byOrdinal = set.earlier;
      if (byOrdinal) earlier.set(title, byOrdinal);
      for (const twin of set.twins) {
        if (!byOrdinal) {
          byOrdinal = [];
          earlier.set(title, byOrdinal);
        }
        byOrdinal[twin.ref.ordinal ?? 0] = {
          attempts: twin.earlier + twin.attempts,
          failed: twin.earlierFailed || twin.failed,
        };
      }
    }
    fileSets.sets = [];
    this.dropSets(project, file);
  }

  /**
   * A test of `set` (its `ordinal`-th) failed because its worker process exited during it: the attempt number
   * that failure is streamed with, counted as one of the test's attempts.
   */
  crashed(set: TwinSet, ordinal: number): number {
    const twin = set.twins.find((candidate) => (candidate.ref.ordinal ?? 0) === ordinal);
    if (twin) {
      twin.attempts++;
      twin.failed = true;
      return twin.earlier + twin.attempts;
    }
    // No result of it from this worker yet: the attempts of the workers before, and this one.
    set.earlier ??= [];
    const earlier = set.earlier;
    const attempts = (earlier[ordinal]?.attempts ?? 0) + 1;
    earlier[ordinal] = { attempts, failed: true };
    return attempts;
  }

  /**
   * A file's result came: jest sends nothing more about its tests in this run, so its sets are forgotten
   * (kept, every test of the run would stay in memory to the end, copied along by the garbage collector).
   */
  fileDone(project: string | undefined, file: string): void {
    this.files.child(project ?? '').drop(file);
    this.dropSets(project, file);
  }

  private dropSets(project: string | undefined, file: string): void {
    this.root.child(project ?? '').drop(file);
    const last = this.last;
    if (last && last.project === project && last.file === file) {
      this.last = undefined;
      this.lastSet = undefined;
      this.lastSetBlock = undefined;
    }
  }

  /**
   * The tests of one file that share a title path. Jest hands out new objects at every hook (start, live
   * result, file result): the set, and its base ref, are made once per title path and found again by a walk
   * of (project, file, titles) — no key string per hook.
   */
  of(project: string | undefined, file: string, titles: readonly string[], title: string): TwinSet {
    const block = this.blockOf(project, file, titles);
    if (this.lastSet && block === this.lastSetBlock && title === this.lastSetTitle) return this.lastSet;
    const node = block.child(title);
    if (!node.value) {
      const set: TwinSet = {
        base: baseRef(project, file, titles, title),
        twins: [],
        running: 0,
        held: false,
        starts: 0,
        unsure: false,
      };
      const fileNode = this.files.child(project ?? '').child(file);
      fileNode.value ??= { sets: [] };
      const fileSets = fileNode.value;
      fileSets.sets.push(set);
      const earlier = fileSets.earlier?.get(titleKey(set.base));
      if (earlier) set.earlier = earlier;
      node.value = set;
    }
    this.lastSet = node.value;
    this.lastSetBlock = block;
    this.lastSetTitle = title;
    return node.value;
  }

  /** The node of (project, file, describe titles): the last one again when they are the same. */
  private blockOf(project: string | undefined, file: string, titles: readonly string[]): PathNode<TwinSet> {
    const last = this.last;
    if (last && last.project === project && last.file === file && sameTitles(last.titles, titles))
      return last.node;
    const node = this.root
      .child(project ?? '')
      .child(file)
      .path(titles);
    this.last = { project, file, titles: titles.slice(), node };
    return node;
  }

  /**
   * The ref of a test that starts, or undefined when it cannot be told from a twin's retry yet, or is not
   * decided yet: then `decided` is called with the ref (or undefined) once it is (see `resultSent`).
   */
  started(
    set: TwinSet,
    decided?: (ref: TestRef | undefined) => void,
    startedAt?: number,
  ): TestRef | undefined {
    const position = set.starts++;
    // Jest 30: kept until its result, which its start time may tell (liveResult).
    let open: OpenStart | undefined;
    if (this.resultsInCompletionOrder && typeof startedAt === 'number') {
      open = { at: startedAt, ref: undefined, byTime: true };
      if (set.open) set.open.push(open);
      else set.open = [open];
    }
    if (set.running++ > 0) {
      if (decided) {
        const start: WaitingStart = open ? { position, decided, open } : { position, decided };
        if (set.waiting) set.waiting.push(start);
        else set.waiting = [start];
      }
      return undefined;
    }
    const ref = this.nextTwin(set, position);
    if (open) open.ref = ref;
    return ref;
  }

  /**
   * The ref of the test of `set` that starts `position`-th, every start before it with a result: the next
   * twin, or undefined when it may be a failed twin's retry (see the class comment).
   */
  private nextTwin(set: TwinSet, position: number): TestRef | undefined {
    if (set.held) return set.unsure ? undefined : withOrdinal(set.base, position);
    for (const twin of set.twins) if (twin.failed) return undefined;
    return withOrdinal(set.base, set.twins.length);
  }

  /**
   * The attempt number of a start of `ref`, a test of `set` (streamed starts are first attempts in this
   * worker): after the attempts workers that exited before streamed of it (`restarted`), as its results are.
   */
  startAttempt(set: TwinSet, ref: TestRef): number {
    return (set.earlier?.[ref.ordinal ?? 0]?.attempts ?? 0) + 1;
  }

  /**
   * The test a live result is about; `invocations` is jest's attempt number, `unsure` says the result failed
   * or had no start (a todo), `startedAt` is when its test started (jest 30). Undefined: the result is held
   * back for the file's result (see above). Either way, call `resultSent` after it.
   */
  liveResult(set: TwinSet, invocations: number, unsure = false, startedAt?: number): Twin | undefined {
    const concurrent = set.running > 1;
    if (set.running > 0) set.running--;
    if (unsure) set.unsure = true;
    const start = set.open ? closeStart(set.open, startedAt) : undefined;
    if (set.held || (concurrent && this.resultsInCompletionOrder)) {
      set.held = true;
      // Told by its start time: the test of the one start it can be (the file's result gives that test the
      // ordinal its start was streamed with: both count the set's tests in declaration order).
      if (start?.byTime && start.ref && invocations === 1) return twinAt(set, start.ref.ordinal ?? 0);
      return undefined;
    }
    if (invocations > 1) {
      for (const twin of set.twins) if (twin.failed && twin.attempts === invocations - 1) return twin;
    }
    return add(set, true);
  }

  /**
   * A live result of `set` was sent or held (its twin's `failed` and `attempts` say how a sent one went): the
   * oldest start waiting for results (see `started`) is decided once every start before it has its result —
   * the next twin, or undefined when it may be a failed twin's retry (its result will say).
   */
  resultSent(set: TwinSet): void {
    const waiting = set.waiting;
    if (!waiting || waiting.length === 0 || set.running > waiting.length) return;
    const { position, decided, open } = waiting.shift() as WaitingStart;
    const ref = this.nextTwin(set, position);
    if (open) open.ref = ref;
    decided(ref);
  }

  /**
   * The test an entry of the file's result is about: the `index`-th entry of its set reported live (jest
   * lists tests in declaration order, as they arrived live), or a new twin (skipped, or no live results).
   * In a held set the `index`-th entry is the twin of ordinal `index`: those sent live before the set was held
   * came first, in order, and those told by their start time (`liveResult`) have their start's ordinal.
   */
  fileResult(set: TwinSet, index: number, reportedLive: boolean): Twin {
    if (reportedLive && set.held) return twinAt(set, index, false);
    if (reportedLive) {
      let seen = 0;
      for (const twin of set.twins) {
        if (!twin.live) continue;
        if (seen++ === index) return twin;
      }
    }
    return add(set, false);
  }
}

/**
 * The tests of a file with one title path: the first one's ref (no ordinal), every twin with a result so far,
 * how many are running (started, no result yet), and whether their live results are held back.
 */
export interface TwinSet {
  readonly base: TestRef;
  readonly twins: Twin[];
  running: number;
  held: boolean;
  /** Starts of the set so far (this worker's run of the file): a start's position among them (`started`). */
  starts: number;
  /** A live result of the set failed or came without a start: a start may be a retry (`nextTwin`). */
  unsure: boolean;
  /** Starts that came while an earlier start of the set had no result, oldest first (`started`). */
  waiting?: WaitingStart[];
  /** Jest 30: the set's starts without a result yet, in the order they came (`started`, `liveResult`). */
  open?: OpenStart[];
  /** By ordinal, what workers that exited streamed of these tests (`JestTwins.restarted`). */
  earlier?: (Earlier | undefined)[];
}

/** A start not decided yet (`JestTwins.started`): its position among its set's starts, and who to tell. */
interface WaitingStart {
  readonly position: number;
  readonly decided: (ref: TestRef | undefined) => void;
  /** Its entry among the set's open starts (jest 30), told the ref once decided. */
  readonly open?: OpenStart;
}

/**
 * A start of a set without a result yet (jest 30): when its test started (`startedAt`, the worker's clock, the
 * same in the test's result), the test it was told to be (undefined: not told, or not yet), and whether its
 * result can still be told by that time (not once a result came that may have been its own).
 */
interface OpenStart {
  readonly at: number;
  ref: TestRef | undefined;
  byTime: boolean;
}

/**
 * The open start a result with `startedAt` ends, taken out of `open`: the one that started then; undefined when
 * none did (a todo, a start not seen). When several did, one of those ended, which one is not known: one is
 * taken out, and none of them tells a result by its time any more (`byTime`).
 */
function closeStart(open: OpenStart[], startedAt: number | undefined): OpenStart | undefined {
  if (typeof startedAt !== 'number') return undefined;
  let found = -1;
  let several = false;
  for (let index = 0; index < open.length; index++) {
    if (open[index].at !== startedAt) continue;
    if (found < 0) found = index;
    else several = true;
  }
  if (found < 0) return undefined;
  if (several) for (const start of open) if (start.at === startedAt) start.byTime = false;
  const [start] = open.splice(found, 1);
  return start;
}

/** A file's sets this run, and what its workers that exited streamed (`JestTwins.restarted`). */
interface FileSets {
  sets: TwinSet[];
  earlier?: Map<string, (Earlier | undefined)[]>;
}

function baseRef(
  project: string | undefined,
  file: string,
  titles: readonly string[],
  title: string,
): TestRef {
  const base: TestRef = { file, titlePath: [...titles, title] };
  if (project) base.project = project;
  return base;
}

/** A new twin after the set's last one. */
function add(set: TwinSet, live: boolean): Twin {
  const last = set.twins[set.twins.length - 1];
  return twinAt(set, last ? (last.ref.ordinal ?? 0) + 1 : 0, live);
}

/** The twin of `ordinal`, made (in ordinal order among the set's twins) if the set has none yet. */
function twinAt(set: TwinSet, ordinal: number, live = true): Twin {
  let index = set.twins.length;
  while (index > 0 && (set.twins[index - 1].ref.ordinal ?? 0) >= ordinal) {
    if ((set.twins[index - 1].ref.ordinal ?? 0) === ordinal) return set.twins[index - 1];
    index--;
  }
  const earlier = set.earlier?.[ordinal];
  const twin: Twin = {
    ref: withOrdinal(set.base, ordinal),
    attempts: 0,
    failed: false,
    retrying: false,
    errors: 0,
    live,
    earlier: earlier?.attempts ?? 0,
    earlierFailed: earlier?.failed ?? false,
  };
  set.twins.splice(index, 0, twin);
  return twin;
}

/** A title path as a key (titles may hold any character): made only for files a worker exit ran again. */
function titleKey(ref: TestRef): string {
  return JSON.stringify(ref.titlePath);
}

function sameTitles(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function withOrdinal(base: TestRef, ordinal: number): TestRef {
  return ordinal === 0 ? base : { ...base, ordinal };
}
