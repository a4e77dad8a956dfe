/**
 * The event contract beyond test.*: the example projects of the four runners stream, one after another,
 * into one endpoint, and every event is checked against the shipped JSON Schema (ajv):
 *
 *   framework.detected  every run, `active` its runner, with version and config file
 *   framework.switched  jest -> vitest -> playwright -> mocha, decided by the endpoint
 *   framework.error     every runner (a wrong reporter option, TESTWIRE_LEAK_THRESHOLD=lots: the real path)
 *   system.health       every run (interval 200 ms), and still each process exits on its own
 *   coverage.started / coverage.progress   jest (babel provider: each file's coverage)
 *
 * And performance.leak on fixtures/heap: it fires on `leaking` (each file keeps 10 MB on a core module) and
 * stays silent on `clean` (allocates as much, keeps nothing) and on `cached` (the third file fills a ~45 MB
 * cache once, which stays: one step, then a plateau) — with mocha and jest under `node --expose-gc`
 * (they measure after a GC). Vitest measures without one: its series needs 15 files of evidence (see
 * packages/reporter-core/src/leak.ts), more than this fixture has; the heuristic for it is unit-tested. A
 * clean run's test.completed, which comes after every heap sample of the run, is the sentinel that nothing
 * more will come.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AnyEventEnvelope } from '@testwire/protocol';
import Ajv2020 from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStream, type Stream } from '../src/harness.js';
import { copyFixture, REPO_DIR, runnerEnv, runProcess } from '../src/spawn.js';

const schema = JSON.parse(
  readFileSync(join(REPO_DIR, 'packages/protocol/schema/testwire.schema.json'), 'utf8'),
);
const AjvClass = ((Ajv2020 as any).default ?? Ajv2020) as typeof Ajv2020;
const ajv = new AjvClass({ strict: false, allowUnionTypes: true });
const validateEnvelope = ajv.compile(schema);

function schemaErrors(events: AnyEventEnvelope[]): string[] {
  const errors: string[] = [];
  for (const event of events) {
    const valid = validateEnvelope(event) as boolean;
    if (!valid) errors.push(`${event.type}: ${ajv.errorsText(validateEnvelope.errors)}`);
  }
  return errors;
}

const of = (events: AnyEventEnvelope[], type: string) =>
  events.filter((event) => event.type === type) as (AnyEventEnvelope & { data: any })[];

const EXAMPLES = join(REPO_DIR, 'examples');
const RUNS = [
  { framework: 'jest', bin: 'jest', args: [], config: './jest.config.js' },
  { framework: 'vitest', bin: 'vitest', args: ['run'], config: './vitest.config.ts' },
  { framework: 'playwright', bin: 'playwright', args: ['test'], config: './playwright.config.ts' },
  { framework: 'mocha', bin: 'mocha', args: ['--reporter', '@testwire/mocha'], config: undefined },
] as const;

describe('the example projects of the four runners, one endpoint', () => {
  let stream: Stream;
  const runs = new Map<string, { events: AnyEventEnvelope[]; timedOut: boolean; stderr: string }>();

  beforeAll(async () => {
    stream = await openStream();
    for (const [index, run] of RUNS.entries()) {
      const dir = join(EXAMPLES, run.framework);
      const result = await runProcess(join(dir, 'node_modules/.bin', run.bin), [...run.args], {
        cwd: dir,
        env: runnerEnv({
          TESTWIRE_URL: stream.url,
          TESTWIRE_HEALTH_INTERVAL: '200',
          TESTWIRE_LEAK_THRESHOLD: 'lots',
        }),
        timeoutMs: 120_000,
      });
      // One after another: this run is complete on the endpoint before the next starts.
      const completed = await stream.waitForCompletedRuns(index + 1, 30_000);
      const events = [...completed.values()][index] ?? [];
      runs.set(run.framework, { events, timedOut: result.timedOut, stderr: result.stderr });
    }
  }, 400_000);
  afterAll(() => stream?.close());

  it('every event of every run is valid against the JSON Schema', () => {
    expect(stream.events.length).toBeGreaterThan(50);
    expect(schemaErrors(stream.events)).toEqual([]);
  });

  it.each(RUNS.map((run) => [run.framework, run] as const))(
    '%s: framework.detected, framework.error, system.health; the process exits on its own',
    (framework, run) => {
      const { events, timedOut, stderr } = runs.get(framework)!;
      expect(timedOut, stderr).toBe(false);
      const [detected, ...more] = of(events, 'framework.detected');
      expect(more).toEqual([]);
      expect(detected.data.active).toBe(framework);
      const active = detected.data.frameworks.find((info: { name: string }) => info.name === framework);
      expect(active.version).toMatch(/^\d+\.\d+\.\d+/);
      if (run.config) expect(active.configPath).toBe(run.config);
      expect(active.testPatterns.length).toBeGreaterThan(0);

      const errors = of(events, 'framework.error');
      expect(
        errors.map((event) => [event.data.framework, event.data.error.code, event.data.severity]),
      ).toEqual([[framework, 'REPORTER_OPTION_INVALID', 'warning']]);
      expect(errors[0].data.error.message).toContain('TESTWIRE_LEAK_THRESHOLD');
      expect(errors[0].data.error.details.suggestion).toMatch(/reporter options/);

      const health = of(events, 'system.health');
      expect(health.length).toBeGreaterThanOrEqual(1);
      expect(health[0].data.components.map((c: { name: string }) => c.name)).toContain('test_runner');
      expect(health[0].data.metrics.cpu.cores).toBeGreaterThan(0);
      // test.started first, test.completed last: the context events are inside the run.
      expect(events[0].type).toBe('test.started');
      expect(events.at(-1)?.type).toBe('test.completed');
    },
  );

  it('the health interval ticks while a run lasts (unref’d: the processes above exited on their own)', () => {
    const ticks = RUNS.map(({ framework }) => of(runs.get(framework)!.events, 'system.health').length);
    expect(Math.max(...ticks)).toBeGreaterThanOrEqual(2);
  });

  it('framework.switched when a run of another framework starts after one ended', () => {
    const switched = stream.events.filter((event) => event.type === 'framework.switched') as any[];
    expect(switched.map((event) => [event.data.from, event.data.to, event.data.reason])).toEqual([
      ['jest', 'vitest', 'run_started'],
      ['vitest', 'playwright', 'run_started'],
      ['playwright', 'mocha', 'run_started'],
    ]);
    for (const event of switched) {
      // It belongs to the run that starts, right after its test.started.
      const started = stream.events.find((e) => e.runId === event.runId && e.type === 'test.started')!;
      expect(event.seq).toBe(started.seq + 1);
      expect(event.data.framework.name).toBe(event.data.to);
      expect(event.data.success).toBe(true);
    }
  });

  it('jest: coverage.started, then coverage.progress as each file hands in its coverage', () => {
    const { events } = runs.get('jest')!;
    const [started] = of(events, 'coverage.started');
    expect(started.data).toMatchObject({ framework: 'jest', provider: 'babel' });
    const progress = of(events, 'coverage.progress');
    expect(progress.map((event) => event.data.filesProcessed)).toEqual([1, 2]);
    const last = progress.at(-1)!.data;
    expect(last).toMatchObject({ totalFiles: 2, percentage: 100 });
    expect(last.sourceFiles).toBeGreaterThanOrEqual(1);
    // The figures so far agree with the run's own at the end (the example covers one source file).
    const [completed] = of(events, 'coverage.completed');
    expect(last.coverage.statements).toBe(completed.data.summary.statements);
    expect(events.indexOf(started)).toBeLessThan(events.indexOf(progress[0]));
  });
});

describe('performance.leak on the heap fixtures', () => {
  const cases = [
    {
      runner: 'mocha-11',
      command: (dir: string) => [
        process.execPath,
        [
          '--expose-gc',
          join(dir, '../../node_modules/mocha/bin/mocha.js'),
          '--reporter',
          '@testwire/mocha',
          '--require',
          './expect.cjs',
          'test/*.test.js',
        ],
      ],
    },
    {
      runner: 'jest-30',
      command: (dir: string) => [
        process.execPath,
        ['--expose-gc', join(dir, '../../node_modules/jest/bin/jest.js'), '-i', '--logHeapUsage'],
      ],
    },
  ] as const;

  it.each(cases.map((c) => [c.runner, c] as const))(
    '%s: fires on leaking, not on clean nor on a cache filled once',
    async (_runner, c) => {
      const stream = await openStream();
      try {
        const leaks: Record<string, AnyEventEnvelope[]> = {};
        for (const [index, fixture] of ['leaking', 'clean', 'cached'].entries()) {
          const copy = copyFixture(c.runner, 'heap', fixture);
          try {
            const [command, args] = c.command(copy.dir) as [string, string[]];
            const result = await runProcess(command, args, {
              cwd: copy.dir,
              env: runnerEnv({ TESTWIRE_URL: stream.url, TESTWIRE_HEALTH_INTERVAL: '0' }),
              timeoutMs: 120_000,
            });
            expect(result.exitCode, result.stderr.slice(-2000)).toBe(0);
            // The run's test.completed comes after every heap sample of the run: nothing more will come.
            const completed = await stream.waitForCompletedRuns(index + 1, 30_000);
            const events = [...completed.values()][index] ?? [];
            leaks[fixture] = of(events, 'performance.leak');
            expect(schemaErrors(events)).toEqual([]);
          } finally {
            copy.cleanup();
          }
        }
        expect(leaks.clean).toEqual([]);
        expect(leaks.cached).toEqual([]);
        expect(leaks.leaking.length).toBeGreaterThanOrEqual(1);
        const leak = (leaks.leaking[0] as any).data;
        expect(leak).toMatchObject({ type: 'memory_leak', leakType: 'heap_growth' });
        expect(leak.size).toBeGreaterThanOrEqual(leak.threshold);
        expect(leak.file).toMatch(/^test\/file\d\.test\.js$/);
        expect(leak.samples.length).toBeGreaterThanOrEqual(6);
      } finally {
        await stream.close();
      }
    },
  );
});

describe('framework.error from a test file that cannot load (fixtures/errors/import)', () => {
  const cases = [
    { runner: 'jest-30', bin: 'jest', args: [] },
    { runner: 'vitest-4', bin: 'vitest', args: ['run'] },
  ] as const;

  it.each(cases.map((c) => [c.runner, c] as const))(
    '%s: MODULE_NOT_FOUND, with the file',
    async (_runner, c) => {
      const stream = await openStream();
      const copy = copyFixture(c.runner, 'errors', 'import');
      try {
        const result = await runProcess(join(copy.dir, '../../node_modules/.bin', c.bin), [...c.args], {
          cwd: copy.dir,
          env: runnerEnv({ TESTWIRE_URL: stream.url, TESTWIRE_HEALTH_INTERVAL: '0' }),
          timeoutMs: 120_000,
        });
        expect(result.exitCode).toBe(1);
        const [events] = [...(await stream.waitForCompletedRuns(1, 30_000)).values()];
        expect(schemaErrors(events)).toEqual([]);
        const errors = of(events, 'framework.error').map((event) => event.data);
        expect(errors.map((data) => [data.error.code, data.file, data.severity])).toEqual([
          ['MODULE_NOT_FOUND', 'test/broken.test.js', 'error'],
        ]);
        expect(errors[0].error.message).toContain('missing-module');
        expect(errors[0].error.details.suggestion).toMatch(/install it, or fix the import path/);
      } finally {
        copy.cleanup();
        await stream.close();
      }
    },
  );
});
