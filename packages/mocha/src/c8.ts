/**
 * Coverage of a mocha run under c8 (`c8 [flags] mocha …`). c8 sets NODE_V8_COVERAGE, runs mocha as its
 * child, and converts V8's raw coverage only after mocha has exited. At mocha's end this module does what c8
 * will do, in this process, with c8's own code — the `Report` of the c8 the project installed, fed c8's
 * options as c8 resolves them (its flags, `.c8rc`, `.c8rc.json`, package.json `c8`):
 *
 *   v8.takeCoverage()  -> this process's coverage so far, written into NODE_V8_COVERAGE
 *   c8 Report          -> every file there (this process, parallel workers and other children that have
 *                         exited), include/exclude, `--all` over `--src`, source maps, v8-to-istanbul,
 *                         istanbul-lib-coverage: c8's dependencies at c8's versions
 *
 * c8's flags are not passed to mocha: they are read from c8's own command line (/proc/<pid>/cmdline of the
 * nearest c8 ancestor, Linux) and parsed with c8's own yargs. Elsewhere only c8's config files apply, and
 * the event's `note` says so.
 *
 * Where the figures can differ from c8's: code that runs after mocha's end (nothing of the tests), and
 * child processes still running then (their coverage is written when they exit). Every report says so in
 * `note`. Nothing here is loaded unless NODE_V8_COVERAGE is set.
 */
import { readFileSync, realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, extname, join, resolve } from 'node:path';
import { type CoverageReport, istanbulReport } from '@testwire/reporter-core';
import { builtin } from './builtin.js';

/** c8's options as its yargs resolves them (the keys read here). */
interface C8Argv {
  _: (string | number)[];
  include?: string | string[];
  exclude?: string | string[];
  extension?: string | string[];
  excludeAfterRemap?: boolean;
  reporter?: string | string[];
  'reports-dir'?: string;
  reporterOptions?: Record<string, unknown>;
  watermarks?: unknown;
  resolve?: string;
  omitRelative?: boolean;
  wrapperLength?: number;
  all?: boolean;
  allowExternal?: boolean;
  src?: string | string[];
  skipFull?: boolean;
  excludeNodeModules?: boolean;
  mergeAsync?: boolean;
  experimentalMonocart?: boolean;
  checkCoverage?: boolean;
  perFile?: boolean;
  '100'?: boolean;
  lines?: number;
  functions?: number;
  branches?: number;
  statements?: number;
}

interface C8Report {
  exclude: { extension: string[] | false; globSync(dir: string): string[] };
  src: string[];
  getCoverageMapFromAllCoverageFiles(): Promise<unknown>;
}

type Yargs = {
  exitProcess(exit: boolean): Yargs;
  fail(handler: (message: string, error?: Error) => void): Yargs;
  parse(args: string[]): C8Argv;
};

/** What coverage.started says of a c8 run. */
export interface C8Start {
  provider: 'c8';
  patterns: string[];
  /** With `--all`: the source files c8 will report (at least); otherwise unknown up front. */
  totalFiles?: number;
}

const METRICS = ['lines', 'functions', 'branches', 'statements'] as const;
/** c8's bin, as a c8 process's argv[1] names it once links are resolved. */
const C8_BIN = /[\\/]c8[\\/]bin[\\/]c8\.js$/;

const NOTE_END =
  "taken at mocha's end: coverage of child processes still running then, and of code run after it, is not counted here (c8 adds it after mocha exits)";
const NOTE_NO_FLAGS =
  "c8's command line was not found among mocha's parent processes (it is read from /proc, Linux): figures from c8's config files and defaults";

/**
 * A c8 run seen from its mocha child: c8's options, resolved once at the run's start. detect() and
 * collect() throw what c8's own code throws (a config file that is not JSON): the reporter catches it.
 */
export class C8Coverage {
  private constructor(
    private readonly argv: C8Argv,
    private readonly report: C8Report,
    private readonly flagsRead: boolean,
  ) {}

  /**
   * Under c8 (NODE_V8_COVERAGE set, c8 running mocha or installed where it runs): its options; otherwise
   * undefined. c8 finds its config files from the current directory, as c8 itself does.
   */
  static detect(env: NodeJS.ProcessEnv = process.env): C8Coverage | undefined {
    const cwd = process.cwd();
    const tempDirectory = env.NODE_V8_COVERAGE;
    if (!tempDirectory) return undefined;
    // The c8 that runs this process (it will write the report), else the project's.
    const running = c8CommandLine();
    const c8Package = running
      ? join(dirname(dirname(running.bin)), 'package.json')
      : resolveFrom(cwd, 'c8/package.json');
    if (!c8Package) return undefined;
    const c8Require = createRequire(c8Package);
    const args = running?.args;
    const instrumenterArgs = args ? beforeInstrumentee(args, c8Require('yargs-parser')) : ['mocha'];
    const { buildYargs } = c8Require('./lib/parse-args.js') as { buildYargs(): Yargs };
    const argv = buildYargs()
      .exitProcess(false)
      .fail((message, error) => {
        throw error ?? new Error(message);
      })
      .parse(instrumenterArgs);
    if (argv.experimentalMonocart || env.EXPERIMENTAL_MONOCART) return undefined;
    if (argv['100']) {
      argv.checkCoverage = true;
      for (const metric of METRICS) argv[metric] = 100;
    }
    const { Report } = c8Require('./index.js') as { Report(options: object): C8Report };
    // The options of c8's outputReport (lib/commands/report.js); the data is where NODE_V8_COVERAGE points.
    const report = Report({
      include: argv.include,
      exclude: argv.exclude,
      extension: argv.extension,
      excludeAfterRemap: argv.excludeAfterRemap,
      reporter: list(argv.reporter),
      reportsDirectory: argv['reports-dir'],
      reporterOptions: argv.reporterOptions || {},
      tempDirectory: resolve(cwd, tempDirectory),
      watermarks: argv.watermarks,
      resolve: argv.resolve,
      omitRelative: argv.omitRelative,
      wrapperLength: argv.wrapperLength,
      all: argv.all,
      allowExternal: argv.allowExternal,
      src: argv.src,
      skipFull: argv.skipFull,
      excludeNodeModules: argv.excludeNodeModules,
      mergeAsync: argv.mergeAsync,
      monocartArgv: null,
    });
    return new C8Coverage(argv, report, args !== undefined);
  }

  /** coverage.started: c8's include and exclude globs (`!` before excludes), and with `--all` its files. */
  start(): C8Start {
    const patterns = [...list(this.argv.include), ...list(this.argv.exclude).map((glob) => `!${glob}`)];
    const start: C8Start = { provider: 'c8', patterns };
    if (this.argv.all) {
      // c8's own walk for --all (Report._includeUncoveredFiles), without the files coverage adds.
      const extensions = this.report.exclude.extension || [];
      let files = 0;
      for (const dir of this.report.src)
        for (const file of this.report.exclude.globSync(dir))
          if (extensions.includes(extname(resolve(dir, file)))) files++;
      start.totalFiles = files;
    }
    return start;
  }

  /**
   * The run's coverage as c8 will report it: this process's coverage is taken now (written into
   * NODE_V8_COVERAGE next to what parallel workers and exited children wrote), then c8 converts it all.
   */
  async collect(): Promise<CoverageReport | undefined> {
    builtin<typeof import('node:v8')>('node:v8').takeCoverage();
    const map = await this.report.getCoverageMapFromAllCoverageFiles();
    const coverage = istanbulReport(map, 'c8', list(this.argv.reporter));
    if (!coverage) return undefined;
    const { report } = coverage;
    report.note = this.flagsRead ? NOTE_END : `${NOTE_END}; ${NOTE_NO_FLAGS}`;
    if (this.argv.checkCoverage) {
      // c8 checks the four metrics (defaults: lines 90, the others 0): `pct < threshold` fails.
      const thresholds: CoverageReport['thresholds'] = {};
      for (const metric of METRICS) {
        const value = Number(this.argv[metric]);
        if (Number.isFinite(value) && value >= 0) thresholds[metric] = value;
      }
      report.thresholds = thresholds;
      if (this.argv.perFile) report.perFile = coverage.perFile();
    }
    return report;
  }
}

function resolveFrom(cwd: string, request: string): string | undefined {
  try {
    return createRequire(join(cwd, 'noop.js')).resolve(request);
  } catch {
    return undefined;
  }
}

function list(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value.map(String) : [String(value)];
}

/**
 * The bin and arguments of the nearest ancestor process running c8 (mocha may run under a wrapper, or be
 * re-spawned by mocha's bin for node flags). undefined where /proc is not there or no ancestor is c8.
 */
function c8CommandLine(): { bin: string; args: string[] } | undefined {
  let pid = process.ppid;
  for (let depth = 0; depth < 5 && pid > 1; depth++) {
    let argv: string[];
    let stat: string;
    try {
      argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      return undefined;
    }
    if (argv.at(-1) === '') argv.pop();
    // argv[0] is node (or c8's bin itself when run by its shebang)
    for (let i = 0; i < Math.min(argv.length, 2); i++) {
      const bin = realpath(argv[i] as string);
      if (C8_BIN.test(bin)) return { bin, args: argv.slice(i + 1) };
    }
    // /proc/<pid>/stat: "pid (comm) state ppid …"; comm may hold spaces and parentheses
    pid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  }
  return undefined;
}

function realpath(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

/** c8's hideInstrumenteeArgs (lib/parse-args.js): its own flags, up to and with the command it runs. */
function beforeInstrumentee(args: string[], parser: (args: string[]) => { _: unknown[] }): string[] {
  const parsed = parser(args);
  if (!parsed._.length) return args;
  const command = String(parsed._[0]);
  return [...args.slice(0, args.indexOf(command)), command];
}
