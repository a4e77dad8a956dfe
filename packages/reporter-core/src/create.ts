/**
 * createReporterCore: options resolved once, then the runner's side (Recorder) wired to where the calls are
 * applied — the Core on the reporter's worker thread (production), or the Core in this thread (a `sink`,
 * TESTWIRE_THREAD=off, or no built worker file). Either way the same path: hook -> CoreCall -> Core.apply.
 */
import { FLUSH_MARGIN_MS } from '@testwire/broadcaster/budget';
import type { TestError } from '@testwire/protocol';
import type { ReporterCore, TestRef } from './api.js';
import type { Core } from './core.js';
import { projectOf } from './environment.js';
import { Identities } from './identity.js';
import { PathRelativizer } from './ids.js';
import { loadInThread, normalizeError } from './in-thread-loader.js';
import { type ReporterCoreOptions, type ResolvedOptions, resolveOptions, turnedOffByEnv } from './options.js';
import { type CallTarget, Recorder } from './recorder.js';
import { RunPhases } from './run-phases.js';
import { startThreadAhead, stopUnusedThread, threadTarget } from './thread.js';

/**
 * Creates the core of a testwire reporter. Options are validated up front; a bad option is reported once on
 * stderr and replaced by its default — a reporter never fails a test run.
 */
export function createReporterCore(input: ReporterCoreOptions): ReporterCore {
  const { options, problems } = resolveOptions(input);
  if (problems.length > 0)
    process.stderr.write(`testwire: invalid reporter options: ${problems.join('; ')}\n`);
  if (!options.enabled) {
    stopUnusedThread();
    return disabledCore(options);
  }
  // Made on first use: the runner's thread needs them only for an error or idFor (crypto, fs, path work).
  let paths: PathRelativizer | undefined;
  const pathsOf = () => {
    paths ??= PathRelativizer.forRoot(options.rootDir);
    return paths;
  };
  let identities: Identities | undefined;
  const normalize = (error: unknown): TestError => normalizeError(error, pathsOf());

  const target = threaded(options, input) ?? inThread(options);
  if (target instanceof InThreadTarget) stopUnusedThread();
  const ids =
    target instanceof InThreadTarget
      ? (test: TestRef) => target.core.idFor(test)
      : (test: TestRef) => {
          identities ??= new Identities(options.framework, projectOf(options), pathsOf());
          return identities.of(test).id;
        };
  return new Recorder(options, target, normalize, ids);
}

/**
 * A target on the worker thread, unless the options or the environment rule it out. Should the thread not
 * start (its file fails to load), the target applies the calls in this thread instead, through the same core
 * TESTWIRE_THREAD=off makes (thread.ts, ThreadTarget.fallBack).
 */
function threaded(options: ResolvedOptions, input: ReporterCoreOptions): CallTarget | undefined {
  // A sink is a function: it cannot cross threads.
  if (options.sink) return undefined;
  if (threadTurnedOff((input.env ?? process.env) as Env)) return undefined;
  try {
    const { sink: _sink, ...plain } = options;
    return threadTarget(plain, () => inThread(options));
  } catch {
    return undefined;
  }
}

type Env = Record<string, string | undefined>;

/** TESTWIRE_THREAD=off (0, false, no): the calls are applied in the runner's thread. */
function threadTurnedOff(env: Env): boolean {
  return /^(0|false|off|no)$/i.test(env.TESTWIRE_THREAD ?? '');
}

/**
 * Starts the reporter's thread when the reporter loads, for a runner that makes its reporter only just before
 * a short run (thread.ts startThreadAhead): unless the environment turns testwire or its thread off. A
 * reporter whose options then turn it off (or take the calls in this thread) ends the thread unused.
 */
export function startReporterThreadAhead(env: Env = process.env): void {
  if (turnedOffByEnv(env) || threadTurnedOff(env)) return;
  try {
    startThreadAhead();
  } catch {
    // No thread now: the first reporter starts one, or applies its calls in this thread.
  }
}

function inThread(options: ResolvedOptions): InThreadTarget {
  return new InThreadTarget(new (loadInThread().Core)(options));
}

/** Calls applied in this thread, as they come. */
class InThreadTarget implements CallTarget {
  constructor(readonly core: Core) {}

  get url(): string | undefined {
    return this.core.url;
  }

  take: CallTarget['take'] = (call) => this.core.apply(call);

  settle(): Promise<void> {
    // Each run's flush bounds itself (flushTimeoutMs from its call).
    return this.core.settle();
  }
}

/** `enabled: false` or TESTWIRE=off: every hook is a no-op, nothing is loaded or opened. */
function disabledCore(options: ResolvedOptions): ReporterCore {
  const phases = new RunPhases();
  let identities: Identities | undefined;
  return {
    enabled: false,
    get runId() {
      return phases.runId;
    },
    url: undefined,
    holdBoundMs: options.flushTimeoutMs + FLUSH_MARGIN_MS.adapter,
    captureOutput: false,
    // Ids still work (an adapter may key its own state by them); nothing else does.
    idFor: (test) => {
      identities ??= new Identities(
        options.framework,
        projectOf(options),
        PathRelativizer.forRoot(options.rootDir),
      );
      return identities.of(test).id;
    },
    runStarted: () => {},
    testsDiscovered: () => {},
    fileStarted: () => {},
    testStarted: () => {},
    wantsStep: () => false,
    testStep: () => {},
    testResult: () => {},
    output: () => {},
    fileFailed: () => {},
    hookFailed: () => {},
    runError: () => {},
    coverage: () => {},
    frameworkError: () => {},
    coverageStarted: () => {},
    coverageProgress: () => {},
    heapSample: () => {},
    leak: () => {},
    adapterError: () => {},
    runCompleted: async () => {},
  };
}
