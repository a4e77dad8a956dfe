/**
 * Tests with one title path in one file (twins), run concurrently, end to end on jest 29 and 30
 * (compat/jest-<major>) into a real broadcaster seen by a real WebSocket subscriber: each twin's id carries
 * its own result. Jest 30 reports a concurrent test's result when it ends, not in declaration order
 * (twins.ts): the twin that ends first must not take the first twin's id.
 */
import { randomBytes } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { stableTestId } from '@testwire/reporter-core';
import {
  type LiveStream,
  openStream,
  runnerEnv,
  runToExit,
  until,
  writeProject,
} from '@testwire-tests/support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compatDir } from './helpers.js';

let stream: LiveStream;
beforeAll(async () => {
  stream = await openStream();
});
afterAll(() => stream?.close());

// Declared: passes (ends last), fails (ends first), passes (ends in between).
const TESTS = [
  'const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));',
  "describe('c', () => {",
  "  test.concurrent('t', async () => { await sleep(400); });",
  "  test.concurrent('t', async () => { await sleep(5); throw new Error('the second twin fails'); });",
  "  test.concurrent('t', async () => { await sleep(150); });",
  '});',
  '',
].join('\n');

describe.each([29, 30])('jest %i: concurrent twins', (major) => {
  it("each twin's id carries its own result, in declaration order", async () => {
    const name = `jest-twins-${process.pid}-${randomBytes(4).toString('hex')}`;
    const dir = writeProject(join(compatDir(major), 'work', name), {
      'package.json': '{ "name": "jest-twins-fixture", "private": true }\n',
      'jest.config.cjs': "module.exports = { reporters: ['default', '@testwire/jest'] };\n",
      'twins.test.js': TESTS,
    });
    try {
      const bin = join(compatDir(major), 'node_modules', 'jest', 'bin', 'jest.js');
      const args = [bin, '--testLocationInResults'];
      expect(await runToExit(process.execPath, args, dir, runnerEnv(stream.url))).toBe(1);
      const run = await stream.runOf(basename(dir));
      // The k-th twin declared has the id of ordinal k (docs/protocol.md, "Test ids").
      const ids = [0, 1, 2].map((ordinal) =>
        stableTestId({
          framework: 'jest',
          // the project is the package's name
          project: 'jest-twins-fixture',
          file: 'twins.test.js',
          titlePath: ['c', 't'],
          ordinal,
        }),
      );
      const results = run.filter((e) => e.type === 'test.result').map((e) => e.data as any);
      expect(results).toHaveLength(3);
      expect(
        ids.map((id) => {
          const result = results.find((r) => r.id === id);
          return [result?.status, result?.location?.line, result?.error?.message];
        }),
      ).toEqual([
        ['passed', 3, undefined],
        ['failed', 4, 'the second twin fails'],
        ['passed', 5, undefined],
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);
});

describe.each([29, 30])('jest %i: twins whose starts overtake the results before them', (major) => {
  it('every start is streamed, with the id its result has', async () => {
    const name = `jest-twins-starts-${process.pid}-${randomBytes(4).toString('hex')}`;
    // Fast tests of one title: a start often reaches the reporter before the result jest sent ahead of it,
    // so twins are seen running together (jest 30 then holds the set's results for the file's result).
    const rows = Array.from({ length: 60 }, () => 'a');
    const dir = writeProject(join(compatDir(major), 'work', name), {
      'package.json': '{ "name": "jest-twins-fixture", "private": true }\n',
      'jest.config.cjs':
        "module.exports = { reporters: ['default', '@testwire/jest'], cacheDirectory: '<rootDir>/.cache' };\n",
      'twins.test.js': `test.each(${JSON.stringify(rows)})('%s', () => {});\n`,
      // A second file: jest runs the files in workers, whose events reach the reporter in batches.
      'other.test.js': "test('other', async () => { await new Promise((r) => setTimeout(r, 300)); });\n",
    });
    try {
      const bin = join(compatDir(major), 'node_modules', 'jest', 'bin', 'jest.js');
      // Every start in the stream (no sampling of test.progress).
      const env = { ...runnerEnv(stream.url), TESTWIRE_PROGRESS_INTERVAL: '0' };
      expect(await runToExit(process.execPath, [bin, '--maxWorkers=2'], dir, env)).toBe(0);
      const run = await stream.runOf(basename(dir));
      const results = run
        .filter((e) => e.type === 'test.result' && (e.data as any).file === 'twins.test.js')
        .map((e) => e.data as any);
      expect(new Set(results.map((r) => r.id)).size).toBe(60);
      const started = new Set(
        run
          .filter((e) => e.type === 'test.progress' && (e.data as any).status === 'running')
          .map((e) => (e.data as any).id),
      );
      expect(results.filter((r) => !started.has(r.id)).map((r) => r.id)).toEqual([]);
      // No start of an id without a result (a test left running).
      const completed = run.find((e) => e.type === 'test.completed')?.data as any;
      expect(completed).toMatchObject({ summary: { total: 61, passed: 61 } });
      expect(completed.runningTests).toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});

// Twins that overlap: the next twin's start reaches testwire before the result jest sent ahead of it. Jest's
// dispatcher awaits each reporter in turn, so a reporter ahead of testwire that takes its time over a result
// makes it certain (jest's own reporters make it happen at random). This one holds each result of a test
// titled 'a' until the next test starts (bounded), and lets the start through first.
const HOLDING_REPORTER = [
  'const pending = [];',
  'module.exports = class {',
  '  onTestCaseResult(test, result) {',
  "    if (result.title !== 'a') return;",
  '    return new Promise((resolve) => {',
  '      pending.push(resolve);',
  '      setTimeout(resolve, 10000).unref();',
  '    });',
  '  }',
  '  onTestCaseStart() {',
  '    setImmediate(() => { for (const resolve of pending.splice(0)) resolve(); });',
  '  }',
  '};',
  '',
].join('\n');

describe.each([29, 30])('jest %i: twins whose results come while the next twin runs', (major) => {
  it('streams each result as soon as it can be attributed, with the id and status of the end of the file', async () => {
    const name = `jest-twins-overlap-${process.pid}-${randomBytes(4).toString('hex')}`;
    const gate = join(compatDir(major), 'work', `${name}.gate`);
    const dir = writeProject(join(compatDir(major), 'work', name), {
      'package.json': '{ "name": "jest-twins-fixture", "private": true }\n',
      'jest.config.cjs':
        "module.exports = { reporters: ['default', '<rootDir>/holding-reporter.cjs', '@testwire/jest'] };\n",
      'holding-reporter.cjs': HOLDING_REPORTER,
      // Three rows of one name, each starting in a millisecond of its own; the last one fails. Then a test that
      // waits for the stream to have the three results (the gate file), which the file's end cannot bring.
      'twins.test.js': [
        "const { existsSync } = require('node:fs');",
        'const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));',
        "test.each([['a', false], ['a', false], ['a', true]])('%s', async (_, fails) => {",
        '  await sleep(20);',
        "  if (fails) throw new Error('the third twin fails');",
        '});',
        "test('gate', async () => {",
        '  const deadline = Date.now() + 30000;',
        `  while (!existsSync(${JSON.stringify(gate)})) {`,
        "    if (Date.now() > deadline) throw new Error('the twins were not streamed while their file ran');",
        '    await sleep(20);',
        '  }',
        '}, 60000);',
        '',
      ].join('\n'),
    });
    try {
      const bin = join(compatDir(major), 'node_modules', 'jest', 'bin', 'jest.js');
      const exited = runToExit(process.execPath, [bin], dir, runnerEnv(stream.url));
      const twinResults = () => {
        const started = stream
          .received()
          .find((e) => e.type === 'test.started' && (e.data as any).run?.rootName === basename(dir));
        const results = stream
          .received()
          .filter((e) => e.runId === started?.runId && e.type === 'test.result')
          .map((e) => e.data as any)
          .filter((r) => r.testName === 'a');
        return results.length === 3 ? results : undefined;
      };
      await until("the twins' results", twinResults, 60_000);
      writeFileSync(gate, '');
      expect(await exited).toBe(1);
      const run = await stream.runOf(basename(dir));
      const results = run.filter((e) => e.type === 'test.result').map((e) => e.data as any);
      // The gate opened while the file ran: the twins' results did not wait for the file's result.
      expect(results.find((r) => r.testName === 'gate')).toMatchObject({ status: 'passed' });
      const ids = [0, 1, 2].map((ordinal) =>
        stableTestId({
          framework: 'jest',
          project: 'jest-twins-fixture',
          file: 'twins.test.js',
          titlePath: ['a'],
          ordinal,
        }),
      );
      // One result per twin, the ids and statuses the file's result gives them (declaration order).
      expect(
        results.filter((r) => r.testName === 'a').map((r) => [r.id, r.status, r.error?.message]),
      ).toEqual([
        [ids[0], 'passed', undefined],
        [ids[1], 'passed', undefined],
        [ids[2], 'failed', 'the third twin fails'],
      ]);
      const completed = run.find((e) => e.type === 'test.completed')?.data as any;
      expect(completed).toMatchObject({ summary: { total: 4, passed: 3, failed: 1 } });
      expect(completed.runningTests).toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
      rmSync(gate, { force: true });
    }
  }, 120_000);
});
