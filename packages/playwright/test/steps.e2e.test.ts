/**
 * Runs the real Playwright runner (compat/playwright) with a real browser on test/fixtures/steps — nested
 * test.step blocks and a screenshot attachment — and reads the events @testwire/playwright delivered to a
 * sink file: the steps in the order they end, attributed to the test and attempt; the screenshot by reference.
 */
import { rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { type PublishedEvent, validatePublishedEvent } from '@testwire/protocol';
import { afterAll, describe, expect, it } from 'vitest';
import { runFixture } from './run-fixture.js';

const dirs: string[] = [];

afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

async function runSteps(stepCategories: string) {
  const run = await runFixture('steps', { STEP_CATEGORIES: stepCategories });
  dirs.push(run.dir);
  return { ...run, output: run.stdout + run.stderr };
}

const dataOf = (events: PublishedEvent[], type: string) =>
  events.filter((event) => event.type === type).map((event) => event.data as Record<string, any>);

describe('@testwire/playwright steps and attachments in a real browser run', () => {
  // One browser run (they are slow): expect steps opted in; fixtures and hooks left at their default (out).
  it('streams the test.step blocks in the order they end, opted-in expect steps, the screenshot by reference', async () => {
    const run = await runSteps('expect');
    expect(run.exitCode, run.output).toBe(0);
    for (const event of run.events) expect(validatePublishedEvent(event)).toMatchObject({ ok: true });
    const all = dataOf(run.events, 'test.step');
    const steps = all.filter((step) => step.category === 'test.step');
    expect(steps.map((step) => [step.title, step.depth, step.stepPath])).toEqual([
      ['check the title', 1, ['open the shop']],
      ['open the shop', 0, []],
      ['buy', 0, []],
      ['a step that fails softly', 0, []],
    ]);
    const [result] = dataOf(run.events, 'test.result');
    for (const step of steps) {
      expect(step).toMatchObject({
        id: result?.id,
        testName: 'checkout',
        attempt: 1,
        stepLocation: { file: 'steps.spec.ts' },
      });
      expect(step.duration).toBeGreaterThanOrEqual(0);
      expect(step.startedAt).toBeTypeOf('number');
    }
    // Steps go out as they end: all of them before the test's result.
    const types = run.events.map((event) => event.type);
    expect(types.lastIndexOf('test.step')).toBeLessThan(types.indexOf('test.result'));
    // Opted in: expect calls, nested in their step (ending before it).
    const titleCheck = all.find(
      (step) => step.category === 'expect' && step.stepPath.at(-1) === 'check the title',
    );
    expect(titleCheck).toMatchObject({ stepPath: ['open the shop', 'check the title'], depth: 2 });
    expect(all.indexOf(titleCheck!)).toBeLessThan(all.indexOf(steps[0]!));
    // Not opted in: fixtures and hooks stay out.
    expect(all.every((step) => step.category === 'test.step' || step.category === 'expect')).toBe(true);

    const shot = result?.attachments?.find((item: { name: string }) => item.name === 'after buy');
    expect(shot).toMatchObject({ contentType: 'image/png' });
    expect(shot.path).toMatch(/^test-results\/.+\.png$/);
    // By reference: the path names the real file; no bytes on the wire.
    expect((await stat(path.join(run.dir, shot.path))).size).toBeGreaterThan(0);
    expect(JSON.stringify(run.events)).not.toMatch(/iVBORw0KGgo/);
  }, 60_000);
});
