/**
 * Runs the real Playwright runner (compat/playwright, and 1.40, the oldest supported) on
 * test/fixtures/failing-steps — tests failing inside test.step blocks, no browser — beside Playwright's own
 * list and JSON reporters, and checks the stream against what they print:
 * - each error of a test.result (and the test.failed's error) names the test.step it failed in (`step`),
 *   one per error for soft assertions in different steps; the failure headers of the list reporter
 *   (`1) failing.spec.mjs:3:1 › checkout flow › pay › confirm payment ───`) name what the errors' steps
 *   have in common, as Playwright walks its step tree;
 * - test.completed's summary.duration is Playwright's run duration (the JSON report's stats.duration).
 */
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import type { PublishedEvent } from '@testwire/protocol';
import { afterAll, describe, expect, it } from 'vitest';
import { runFixture } from './run-fixture.js';

const dirs: string[] = [];

afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

const dataOf = (events: PublishedEvent[], type: string) =>
  events.filter((event) => event.type === type).map((event) => event.data as Record<string, any>);

/** Each failing test's errors: the steps they name (undefined: none), in the order Playwright gave them. */
const EXPECTED_STEPS: Record<string, (string[] | undefined)[]> = {
  'checkout flow': [['pay', 'confirm payment']],
  'throws in a nested step': [['outer', 'inner']],
  'soft assertions in two steps and outside': [['first'], ['second', 'inner'], undefined],
  'two soft assertions in one step': [['only'], ['only']],
  // identical errors (one line, one message): each to its own step, in order
  'the same assertion in two steps': [['round 1'], ['round 2']],
  // the step's error was caught: the test failed with another, outside any step
  'a step error caught, the test failing after it': [undefined],
  // Playwright names no step under a hook
  'is not named, as Playwright names none': [undefined],
};

/** The titles all of `paths` begin with (Playwright's header stops where the failing steps part). */
function commonPrefix(paths: (string[] | undefined)[]): string[] {
  const [first = [], ...rest] = paths.map((titles) => titles ?? []);
  let length = first.length;
  for (const titles of rest) {
    let same = 0;
    while (same < Math.min(length, titles.length) && titles[same] === first[same]) same++;
    length = same;
  }
  return first.slice(0, length);
}

describe.each(['playwright', 'playwright-1.40'])('%s: failures inside test.step', (install) => {
  it('each error names its step as Playwright does; the run lasts what Playwright says', async () => {
    const run = await runFixture('failing-steps', { TESTWIRE_E2E_JSON: 'report.json' }, install, 150_000);
    dirs.push(run.dir);
    const output = run.stdout + run.stderr;
    expect(run.exitCode, output).toBe(1);

    const results = dataOf(run.events, 'test.result').filter((result) => result.status === 'failed');
    const stepsOf = (result: Record<string, any>) =>
      (result.errors as { step?: string[] }[]).map((error) => error.step);
    expect(Object.fromEntries(results.map((result) => [result.testName, stepsOf(result)]))).toEqual(
      EXPECTED_STEPS,
    );
    // test.failed's error (the first) says it too.
    for (const failed of dataOf(run.events, 'test.failed'))
      expect(failed.error.step, failed.testName).toEqual(EXPECTED_STEPS[failed.testName]?.[0]);

    // Playwright's own failure headers: `  1) <file>:<line>:<col> › <titles> › <steps> ────`.
    const headers = [...output.matchAll(/^\s+\d+\) (.+?) ─+$/gm)].map((match) => match[1]);
    expect(headers).toHaveLength(results.length);
    for (const result of results) {
      const { file, line, column } = result.location;
      const titles = [...result.titlePath, ...commonPrefix(stepsOf(result))];
      expect(headers).toContain(`${file}:${line}:${column} › ${titles.join(' › ')}`);
    }

    // The run's duration: Playwright's, not the reporter's own onBegin-to-onEnd.
    const report = JSON.parse(await readFile(path.join(run.dir, 'report.json'), 'utf8'));
    const [completed] = dataOf(run.events, 'test.completed');
    expect(Math.abs(completed?.summary.duration - report.stats.duration)).toBeLessThanOrEqual(1);
  }, 180_000);
});
