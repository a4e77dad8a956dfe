/**
 * `testwire baseline save|compare|list|show`: the baselines of `.test-baselines/` (the files the reporters'
 * `baseline` option writes), saved from or compared with a finished run on an endpoint or a stored run.
 */
import { resolve } from 'node:path';
import type { BaselineComparedData, RunSnapshot } from '@testwire/protocol';
import {
  BASELINE_DIR,
  BaselineError,
  type BaselineFile,
  baselinePath,
  compareRun,
  coverageTotal,
  DEFAULT_THRESHOLDS,
  labelProblem,
  listBaselines,
  readBaseline,
  saveRun,
  sourceKey,
} from '@testwire/reporter-core/baseline';
import { endpointFrom, endpointHelp, endpointOptions, type Io, parseCommand } from '../args.js';
import { baselineDirs, folderOf, shownPath as shown } from '../baseline-dirs.js';
import { pickRun, runsFromEndpoint, runsFromFile, runTests } from '../baseline-run.js';
import { CliError, ExitCode } from '../errors.js';
import { type Colors, createColors, formatDuration, shouldColor } from '../format.js';

export const baselineHelp = `Usage: testwire baseline <save|compare|list|show> [label] [options]

Baselines are .test-baselines/<label>.json: per test its status and duration statistics (last 10 runs),
per run its summary and coverage. Reporters save and compare them live with the option
baseline: { save, compare } (env TESTWIRE_BASELINE_SAVE / TESTWIRE_BASELINE_COMPARE); these commands do
the same from a finished run.

  save <label>       save a finished run (folded into the label's statistics)
  compare <label>    compare a finished run with the baseline: added, removed, changed, slower tests
  list               the baselines of the folder (and of the .test-baselines folders below it)
  show <label>       one baseline: its runners, runs, coverage and slowest tests

The run: the last completed run of the endpoint (see Endpoint), or --run <runId>, or --from <file>
(a stored run: the NDJSON of \`testwire tail --json\`).

Without --dir the baselines are looked for in ./${BASELINE_DIR} and in the ${BASELINE_DIR} folders below
the current directory (Playwright saves them under its testDir: tests/${BASELINE_DIR}); a label is read
from, and saved into, the folder that has it (./${BASELINE_DIR} when none has it yet).

Options:
  --dir <dir>          folder of the baselines (default: see above)
  --from <file>        take the run from this NDJSON file instead of an endpoint
  --run <runId>        this run instead of the last completed one
  --relative <f>       compare: a slower test is slower by more than this fraction (default ${DEFAULT_THRESHOLDS.relative})
  --absolute-ms <ms>   compare: …and by more than this many ms (default ${DEFAULT_THRESHOLDS.absoluteMs})
  --exit-status        compare: exit 1 when the comparison finds a regression
  --json               print JSON (compare: the data of a baseline.compared event)
  -h, --help           show this help

${endpointHelp}`;

const options = {
  ...endpointOptions,
  dir: { type: 'string' },
  from: { type: 'string' },
  run: { type: 'string' },
  relative: { type: 'string' },
  'absolute-ms': { type: 'string' },
  'exit-status': { type: 'boolean' },
  json: { type: 'boolean' },
} as const;

type Values = ReturnType<typeof parseCommand<typeof options>>['values'];

export async function baseline(argv: string[], io: Io): Promise<number> {
  const [action, ...rest] = argv;
  if (action === undefined || action === '-h' || action === '--help') {
    io.stdout.write(`${baselineHelp}\n`);
    return action === undefined ? ExitCode.USAGE : ExitCode.OK;
  }
  const positionals = rest.filter((arg, index) => !arg.startsWith('-') && !takesValue(rest[index - 1]));
  const flags = rest.filter((arg) => !positionals.includes(arg));
  const { values } = parseCommand('baseline', flags, options);
  if (values.help) {
    io.stdout.write(`${baselineHelp}\n`);
    return ExitCode.OK;
  }
  // --dir is the one folder; else the current directory's and those below it (baseline-dirs.ts).
  const dirs = values.dir ? [resolve(values.dir)] : baselineDirs(process.cwd());
  const c = createColors(shouldColor(io.stdout, io.env));
  switch (action) {
    case 'list':
      expectLabels(action, positionals, 0);
      return list(dirs, values, io, c);
    case 'show':
      return show(dirs, expectLabels(action, positionals, 1), values, io, c);
    case 'save':
      return save(dirs, expectLabels(action, positionals, 1), values, io);
    case 'compare':
      return compare(dirs, expectLabels(action, positionals, 1), values, io, c);
    default:
      throw new CliError(
        `baseline: unknown action ${JSON.stringify(action)}; actions: save, compare, list, show`,
        'USAGE',
        ExitCode.USAGE,
      );
  }
}

const VALUE_FLAGS = new Set(
  Object.entries(options)
    .filter(([, option]) => option.type === 'string')
    .flatMap(([name, option]) => [`--${name}`, ...('short' in option ? [`-${option.short}`] : [])]),
);
const takesValue = (flag: string | undefined) => flag !== undefined && VALUE_FLAGS.has(flag);

function expectLabels(action: string, positionals: string[], count: 0 | 1): string {
  if (positionals.length !== count)
    throw new CliError(
      count === 0
        ? `baseline ${action} takes no label (got ${positionals.join(' ')})`
        : `baseline ${action} needs one label, e.g. \`testwire baseline ${action} main\``,
      'USAGE',
      ExitCode.USAGE,
    );
  const label = positionals[0] ?? '';
  const problem = count === 1 ? labelProblem(label) : undefined;
  if (problem) throw new CliError(`baseline ${action}: ${problem}`, 'USAGE', ExitCode.USAGE);
  return label;
}

async function finishedRun(values: Values, io: Io): Promise<RunSnapshot> {
  if (values.from) return pickRun(runsFromFile(values.from), values.run, values.from);
  const endpoint = endpointFrom(values, io);
  return pickRun(await runsFromEndpoint(endpoint), values.run, endpoint.httpUrl);
}

/** Of several files of one label, the one that has this run's runner and project (its own earlier saves). */
const hasSourceOf =
  (run: RunSnapshot) =>
  (path: string): boolean => {
    try {
      return readBaseline(path).sources[sourceKey(run.framework, run.project)] !== undefined;
    } catch {
      return false;
    }
  };

async function save(dirs: string[], label: string, values: Values, io: Io): Promise<number> {
  const run = await finishedRun(values, io);
  const path = baselinePath(folderOf(label, dirs, hasSourceOf(run)), label);
  const { file, size } = guard(() =>
    saveRun(path, label, {
      runId: run.runId,
      framework: run.framework,
      ...(run.project !== undefined ? { project: run.project } : {}),
      tests: runTests(run),
      summary: {
        total: run.summary?.total ?? run.counts.completed,
        passed: run.counts.passed,
        failed: run.counts.failed,
        skipped: run.counts.skipped,
        todo: run.counts.todo,
        ...(run.summary ? { duration: run.summary.duration } : {}),
      },
      ...(run.coverage ? { coverage: run.coverage } : {}),
    }),
  );
  const source = file.sources[sourceKey(run.framework, run.project)];
  const coverage = coverageTotal(run.coverage);
  const data = {
    label,
    framework: run.framework,
    ...(run.project !== undefined ? { project: run.project } : {}),
    path: shown(path),
    size,
    tests: Object.keys(source.tests).length,
    ...(coverage !== undefined ? { coverage } : {}),
    runs: source.runs.length,
    runId: run.runId,
  };
  if (values.json) io.stdout.write(`${JSON.stringify(data)}\n`);
  else
    io.stdout.write(
      `saved baseline ${label} to ${data.path}: ${data.tests} ${run.framework}${run.project ? ` (${run.project})` : ''} tests from run ${run.runId}${coverage !== undefined ? `, coverage ${coverage} %` : ''} (${data.runs} run(s) of durations)\n`,
    );
  return ExitCode.OK;
}

/**
 * The folder of `label` (folderOf); the run is asked for only when several folders have the label, so a
 * missing or broken baseline is said before the endpoint is reached.
 */
async function folderForRun(
  label: string,
  dirs: string[],
  finished: () => Promise<RunSnapshot>,
): Promise<{ dir: string; run?: RunSnapshot }> {
  try {
    return { dir: folderOf(label, dirs) };
  } catch (error) {
    if (!(error instanceof CliError && error.code === 'AMBIGUOUS_BASELINE')) throw error;
    const run = await finished();
    return { dir: folderOf(label, dirs, hasSourceOf(run)), run };
  }
}

async function compare(dirs: string[], label: string, values: Values, io: Io, c: Colors): Promise<number> {
  const folder = await folderForRun(label, dirs, () => finishedRun(values, io));
  const path = baselinePath(folder.dir, label);
  const file = guard(() => readBaseline(path));
  const run = folder.run ?? (await finishedRun(values, io));
  const thresholds = {
    relative: parseThreshold(values.relative, '--relative', DEFAULT_THRESHOLDS.relative),
    absoluteMs: parseThreshold(values['absolute-ms'], '--absolute-ms', DEFAULT_THRESHOLDS.absoluteMs),
  };
  const key = sourceKey(run.framework, run.project);
  const source = file.sources[key];
  if (!source)
    io.stderr.write(
      `testwire: baseline ${label} has no tests of ${key} (it has ${Object.keys(file.sources).join(', ') || 'none'}); every test counts as added\n`,
    );
  const result = compareRun(
    label,
    source,
    {
      tests: runTests(run),
      ...(run.coverage ? { coverage: run.coverage } : {}),
      partial: run.run?.shard !== undefined,
    },
    thresholds,
  );
  const data: BaselineComparedData = {
    framework: run.framework,
    ...(run.project !== undefined ? { project: run.project } : {}),
    ...result,
    path: shown(path),
  };
  if (values.json) io.stdout.write(`${JSON.stringify(data)}\n`);
  else io.stdout.write(`${formatComparison(data, run, c).join('\n')}\n`);
  return values['exit-status'] && data.comparison.summary.regression ? ExitCode.FAILURE : ExitCode.OK;
}

function list(dirs: string[], values: Values, io: Io, c: Colors): number {
  const [own] = dirs;
  const entries = dirs.flatMap((dir) => guard(() => listBaselines(dir)).map((entry) => ({ ...entry, dir })));
  const rows = entries.map((entry) => {
    let file: BaselineFile | undefined;
    let problem: string | undefined;
    try {
      file = readBaseline(entry.path);
    } catch (error) {
      problem = (error as Error).message;
    }
    const sources = file ? Object.values(file.sources) : [];
    return {
      label: entry.label,
      path: shown(entry.path),
      size: entry.size,
      updatedAt: file?.updatedAt,
      sources: sources.map((source) => sourceKey(source.framework, source.project)),
      tests: sources.reduce((sum, source) => sum + Object.keys(source.tests).length, 0),
      runs: sources.reduce((sum, source) => sum + source.runs.length, 0),
      ...(problem ? { problem } : {}),
      /** Not the default folder: the text line says where (Playwright's testDir, another package). */
      elsewhere: entry.dir !== own,
    };
  });
  if (values.json) {
    io.stdout.write(`${JSON.stringify(rows.map(({ elsewhere: _, ...row }) => row))}\n`);
    return ExitCode.OK;
  }
  if (rows.length === 0) {
    io.stdout.write(
      `no baselines in ${shown(own)}${values.dir ? '' : ` nor in a ${BASELINE_DIR} folder below`}\n`,
    );
    return ExitCode.OK;
  }
  for (const row of rows) {
    const where = row.elsewhere ? `  ${c.dim(row.path)}` : '';
    if (row.problem) io.stdout.write(`${row.label.padEnd(20)} ${c.yellow(row.problem)}${where}\n`);
    else
      io.stdout.write(
        `${c.bold(row.label.padEnd(20))} ${String(row.tests).padStart(6)} tests  ${String(row.runs).padStart(3)} runs  ${row.sources.join(', ').padEnd(30)} ${c.dim(row.updatedAt ?? '')}${where}\n`,
      );
  }
  return ExitCode.OK;
}

function show(dirs: string[], label: string, values: Values, io: Io, c: Colors): number {
  const path = baselinePath(folderOf(label, dirs), label);
  const file = guard(() => readBaseline(path));
  if (values.json) {
    io.stdout.write(`${JSON.stringify(file, null, 2)}\n`);
    return ExitCode.OK;
  }
  const lines = [`${c.bold(`baseline ${label}`)} ${c.dim(shown(path))}  updated ${file.updatedAt}`];
  for (const source of Object.values(file.sources)) {
    const tests = Object.entries(source.tests);
    const last = source.runs.at(-1);
    const coverage = coverageTotal(last?.coverage);
    lines.push(
      `  ${c.bold(sourceKey(source.framework, source.project))}: ${tests.length} tests, ${source.runs.length} run(s)` +
        (last ? `, last ${last.runId} (${last.summary.passed} passed, ${last.summary.failed} failed)` : '') +
        (coverage !== undefined ? `, coverage ${coverage} %` : ''),
    );
    const slowest = tests
      .filter(([, test]) => test.duration)
      .sort(([, a], [, b]) => (b.duration?.median ?? 0) - (a.duration?.median ?? 0))
      .slice(0, 10);
    for (const [, test] of slowest) {
      const stats = test.duration;
      if (!stats) continue;
      lines.push(
        `    ${formatDuration(stats.median).padStart(8)}  ${test.test} ${c.dim(`(${test.file}; ${stats.samples} sample(s), ${formatDuration(stats.min)}–${formatDuration(stats.max)})`)}`,
      );
    }
    const failing = tests.filter(([, test]) => test.status === 'failed');
    if (failing.length > 0)
      lines.push(`    ${c.red(`${failing.length} failing:`)} ${failing.map(([, t]) => t.test).join(', ')}`);
  }
  io.stdout.write(`${lines.join('\n')}\n`);
  return ExitCode.OK;
}

/** The comparison, readable. */
export function formatComparison(data: BaselineComparedData, run: RunSnapshot, c: Colors): string[] {
  const { comparison } = data;
  const lines = [
    `${c.bold(`baseline ${data.baseline}`)} ${c.dim(data.path ?? '')} vs run ${run.runId} (${run.framework}${run.project ? `, ${run.project}` : ''})`,
    `  tests: ${comparison.testsAdded} added, ${comparison.testsRemoved} removed, ${comparison.testsChanged} changed` +
      (comparison.testsNewlyFailing ? ` (${comparison.testsNewlyFailing} newly failing)` : ''),
  ];
  for (const regression of data.regressions)
    lines.push(
      `  ${c.yellow('slower')}  ${regression.test}  ${formatDuration(regression.baselineDuration)} -> ${formatDuration(regression.duration)} (+${formatDuration(regression.change)}, +${regression.percentage} %)`,
    );
  for (const change of data.changed ?? [])
    lines.push(
      `  ${change.to === 'failed' ? c.red('changed') : 'changed'} ${change.test}  ${change.from} -> ${change.to}`,
    );
  for (const test of data.added ?? []) lines.push(`  ${c.cyan('added')}   ${test.test}`);
  for (const test of data.removed ?? []) lines.push(`  ${c.dim('removed')} ${test.test}`);
  if (comparison.coverage)
    lines.push(
      `  coverage ${comparison.coverage.baseline} % -> ${comparison.coverage.current} % (${comparison.coverage.change >= 0 ? '+' : ''}${comparison.coverage.change} points)`,
    );
  const { summary } = comparison;
  const verdict = summary.regression
    ? c.red('regression')
    : summary.improvement
      ? c.green('improvement')
      : c.green('no change');
  lines.push(`  score ${summary.score}: ${verdict}`);
  return lines;
}

function parseThreshold(value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (value.trim() === '' || !Number.isFinite(parsed) || parsed < 0)
    throw new CliError(
      `${flag}: expected a number >= 0, got ${JSON.stringify(value)}`,
      'USAGE',
      ExitCode.USAGE,
    );
  return parsed;
}

/** A baseline file problem as a one-line CLI error. */
function guard<T>(body: () => T): T {
  try {
    return body();
  } catch (error) {
    if (error instanceof BaselineError) throw new CliError(error.message, error.code);
    throw error;
  }
}
