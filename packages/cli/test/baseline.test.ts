/**
 * `testwire baseline`: real `testwire serve`, real reporter cores publishing runs into it, the real CLI
 * binary saving, comparing, listing and showing baselines — from the endpoint and from a stored run.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PublishedEvent } from '@testwire/protocol';
import { createReporterCore, type ReporterCoreOptions } from '@testwire/reporter-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, cli, type Serve, startServe } from './helpers.js';

type Row = { title: string; status: 'passed' | 'failed'; duration: number };

const original: Row[] = [
  { title: 'slow', status: 'passed', duration: 500 },
  { title: 'quick', status: 'passed', duration: 2 },
  { title: 'flips', status: 'passed', duration: 3 },
  { title: 'gone', status: 'passed', duration: 1 },
];
const changed: Row[] = [
  { title: 'slow', status: 'passed', duration: 1000 },
  { title: 'quick', status: 'passed', duration: 9 },
  { title: 'flips', status: 'failed', duration: 3 },
  { title: 'extra', status: 'passed', duration: 1 },
];

let serve: Serve;
/** `testwire baseline <args> --dir <dir>`. */
const baseline = (...args: string[]) => cli(['baseline', ...args, '--dir', dir]);
let root: string;
let dir: string;
const runIds: string[] = [];

/** One run of `rows` by a reporter core rooted in `root`, into the endpoint (and, with `sink`, an array). */
async function publishRun(rows: Row[], options: Partial<ReporterCoreOptions> = {}): Promise<string> {
  const core = createReporterCore({
    framework: 'jest',
    rootDir: root,
    performanceIntervalMs: 0,
    env: {},
    ...(options.sink ? {} : { url: serve.url }),
    ...options,
  });
  core.runStarted({ totalTests: rows.length });
  for (const row of rows) {
    const ref = { file: join(root, 'speed.test.js'), titlePath: ['speed', row.title] };
    core.testStarted(ref);
    core.testResult(ref, {
      status: row.status,
      rawStatus: row.status,
      duration: row.duration,
      ...(row.status === 'failed' ? { errors: [new Error('broken')] } : {}),
    });
  }
  await core.runCompleted({ success: rows.every((row) => row.status === 'passed') });
  return core.runId;
}

beforeAll(async () => {
  assertBuilt();
  root = mkdtempSync(join(tmpdir(), 'testwire-cli-baseline-'));
  dir = join(root, 'baselines');
  writeFileSync(join(root, 'package.json'), JSON.stringify({ name: 'speed-project' }));
  serve = await startServe();
  // The first run also saves through the reporter option: the CLI must key its baseline the same way.
  runIds.push(await publishRun(original, { baseline: { save: 'reporter', dir } }));
  runIds.push(await publishRun(changed));
});

afterAll(async () => {
  await serve?.stop();
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('testwire baseline', () => {
  it('saves a finished run of an endpoint, keyed like the reporter keys it', async () => {
    const out = await baseline('save', 'main', '--url', serve.url, '--run', runIds[0]);
    expect(out.stderr).toBe('');
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(
      /^saved baseline main to .*main\.json: 4 jest \(speed-project\) tests from run r_/,
    );
    const fromCli = JSON.parse(readFileSync(join(dir, 'main.json'), 'utf8'));
    const fromReporter = JSON.parse(readFileSync(join(dir, 'reporter.json'), 'utf8'));
    const tests = (file: typeof fromCli) => file.sources['jest:speed-project'].tests;
    expect(Object.keys(tests(fromCli)).sort()).toEqual(Object.keys(tests(fromReporter)).sort());
    for (const [id, test] of Object.entries(tests(fromReporter))) expect(tests(fromCli)[id]).toEqual(test);
  });

  it('compares the last completed run with it: slower, newly failing, added, removed', async () => {
    const out = await baseline('compare', 'main', '--url', serve.url, '--json', '--exit-status');
    expect(out.code).toBe(1);
    const data = JSON.parse(out.stdout);
    expect(data).toMatchObject({
      baseline: 'main',
      framework: 'jest',
      project: 'speed-project',
      comparison: {
        testsAdded: 1,
        testsRemoved: 1,
        testsChanged: 1,
        testsNewlyFailing: 1,
        performanceRegression: true,
        summary: { regression: true, score: 0.33 },
      },
      regressions: [{ test: 'slow', change: 500, percentage: 100, baselineDuration: 500, duration: 1000 }],
    });
    // `quick` took 4.5x as long, but 7 ms is under the absolute floor: not a regression.
    expect(data.regressions).toHaveLength(1);

    const readable = await baseline('compare', 'main', '--url', serve.url);
    expect(readable.code).toBe(0);
    expect(readable.stdout).toContain('tests: 1 added, 1 removed, 1 changed (1 newly failing)');
    expect(readable.stdout).toMatch(/slower {2}slow {2}500 ?ms -> 1(\.0)? ?s/);
    expect(readable.stdout).toContain('changed flips  passed -> failed');
    expect(readable.stdout).toContain('added   extra');
    expect(readable.stdout).toContain('removed gone');
    expect(readable.stdout).toContain('score 0.33: regression');
  });

  it('the saved run itself compares clean', async () => {
    const out = await baseline(
      'compare',
      'main',
      '--url',
      serve.url,
      '--run',
      runIds[0],
      '--json',
      '--exit-status',
    );
    expect(out.code).toBe(0);
    expect(JSON.parse(out.stdout).comparison).toMatchObject({
      testsAdded: 0,
      testsRemoved: 0,
      testsChanged: 0,
      summary: { regression: false, score: 1 },
    });
  });

  it('works on a stored run (NDJSON of envelopes)', async () => {
    const events: PublishedEvent[] = [];
    await publishRun(changed, { sink: (event) => events.push(event) });
    const file = join(root, 'run.ndjson');
    writeFileSync(file, `${events.map((event) => JSON.stringify(event)).join('\n')}\n`);
    const out = await baseline('compare', 'main', '--from', file, '--json');
    expect(out.code).toBe(0);
    expect(JSON.parse(out.stdout).comparison).toMatchObject({
      testsAdded: 1,
      testsRemoved: 1,
      testsChanged: 1,
    });
    const saved = await baseline('save', 'stored', '--from', file);
    expect(saved.code).toBe(0);
    expect(saved.stdout).toContain('saved baseline stored');
  });

  it('lists and shows baselines', async () => {
    const list = await baseline('list', '--json');
    expect(list.code).toBe(0);
    const rows = JSON.parse(list.stdout);
    expect(rows.map((row: { label: string }) => row.label)).toEqual(['main', 'reporter', 'stored']);
    expect(rows[0]).toMatchObject({ tests: 4, runs: 1, sources: ['jest:speed-project'] });
    const show = await baseline('show', 'main');
    expect(show.code).toBe(0);
    expect(show.stdout).toContain('jest:speed-project: 4 tests, 1 run(s)');
    expect(show.stdout).toMatch(/500 ?ms {2}slow/);
  });

  it('says what is wrong: bad label, no baseline, no such run, bad stored run', async () => {
    const label = await baseline('save', '../x');
    expect(label.code).toBe(2);
    expect(label.stderr).toMatch(/^testwire: baseline save: baseline label "..\/x" must be 1-100 letters/);
    const missing = await baseline('compare', 'nope', '--url', serve.url);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^testwire: no baseline at .*nope\.json\n$/);
    const run = await baseline('save', 'x', '--url', serve.url, '--run', 'r_nope');
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^testwire: no run r_nope at http/);
    const bad = join(root, 'bad.ndjson');
    writeFileSync(bad, '{"type":"test.result"}\nnot json\n');
    const stored = await baseline('save', 'x', '--from', bad);
    expect(stored.code).toBe(2);
    expect(stored.stderr).toMatch(/bad\.ndjson:1 is not an event envelope/);
  });
});
