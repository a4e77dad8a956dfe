/**
 * An error a test throws after it ended (from a timer it left), end to end on jest 29 and 30 (compat/jest-<major>),
 * streaming into a real broadcaster seen by a real WebSocket subscriber. Jest 29 fails the test running when the
 * error is thrown, live. Jest 30 pins it on the test that threw it (its async context), in the file's result
 * only: that test was streamed live as passed. The stream must end as jest does (--json): that attempt again,
 * failed with the error, one test.failed, each test counted once.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { type LiveStream, openStream, runnerEnv, runToExit, writeProject } from '@testwire-tests/support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compatDir } from './helpers.js';

let stream: LiveStream;
beforeAll(async () => {
  stream = await openStream();
});
afterAll(() => stream?.close());

// The timer fires while the next test waits (100 ms after the 10 ms timer was set: always after it).
const LATE = [
  "test('async after done', () => { setTimeout(() => { throw new Error('late boom'); }, 10); });",
  "test('waits', () => new Promise((r) => setTimeout(r, 100)));",
  '',
].join('\n');
const FILES: Record<string, string> = {
  // Every test sent live, once: the file's result is otherwise not walked.
  'late.test.js': LATE,
  // A skipped test: the file's result is walked (skipped tests are sent from it).
  'late-skip.test.js': `test.skip('skipped', () => {});\n${LATE}`,
};

describe.each([29, 30])('jest %i: an error thrown after its test ended', (major) => {
  it('each test ends with the status jest gives it, the error on the test jest pins it on, counted once', async () => {
    const name = `jest-late-error-${process.pid}-${randomBytes(4).toString('hex')}`;
    const dir = writeProject(join(compatDir(major), 'work', name), {
      'package.json': '{ "name": "jest-late-error-fixture", "private": true }\n',
      'jest.config.cjs': "module.exports = { reporters: ['default', '@testwire/jest'] };\n",
      ...FILES,
    });
    try {
      const bin = join(compatDir(major), 'node_modules', 'jest', 'bin', 'jest.js');
      const args = [bin, '--ci', '--json', '--outputFile=jest.json'];
      expect(await runToExit(process.execPath, args, dir, runnerEnv(stream.url))).toBe(1);
      const jest = JSON.parse(readFileSync(join(dir, 'jest.json'), 'utf8'));
      const run = await stream.runOf(basename(dir));
      const data = (type: string) => run.filter((e) => e.type === type).map((e) => e.data as any);
      const results = data('test.result');
      const final = new Map<string, any>();
      for (const result of results) final.set(result.id, result);
      const STATUS: Record<string, string> = { passed: 'passed', failed: 'failed', pending: 'skipped' };
      const reported = jest.testResults
        .flatMap((file: any) =>
          file.assertionResults.map((a: any) => [
            basename(file.name),
            a.title,
            STATUS[a.status],
            a.failureMessages.some((m: string) => m.includes('late boom')),
          ]),
        )
        .sort();
      const mirrored = [...final.values()]
        .map((r) => [r.file, r.testName, r.status, r.error?.message === 'late boom'])
        .sort();
      expect(mirrored).toEqual(reported);
      // Where each jest pins it: on the test running (29), on the test that threw it (30).
      const blamed = major >= 30 ? 'async after done' : 'waits';
      expect(reported.filter((r: any[]) => r[2] === 'failed').map((r: any[]) => [r[0], r[1], r[3]])).toEqual([
        ['late-skip.test.js', blamed, true],
        ['late.test.js', blamed, true],
      ]);
      // Jest 30: the attempt streamed live as passed, then again as jest ends it (same id, same attempt).
      for (const file of Object.keys(FILES)) {
        const attempts = results
          .filter((r) => r.file === file && r.testName === blamed)
          .map((r) => [r.attempt, r.status]);
        expect(attempts).toEqual(
          major >= 30
            ? [
                [1, 'passed'],
                [1, 'failed'],
              ]
            : [[1, 'failed']],
        );
      }
      const failures = data('test.failed').filter((f) => f.scope === 'test');
      expect(failures.map((f) => [f.file, f.testName, f.error.message]).sort()).toEqual([
        ['late-skip.test.js', blamed, 'late boom'],
        ['late.test.js', blamed, 'late boom'],
      ]);
      expect(data('test.completed')[0].summary).toMatchObject({
        total: jest.numTotalTests,
        passed: jest.numPassedTests,
        failed: jest.numFailedTests,
        skipped: jest.numPendingTests,
        success: false,
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});

// A test that fails its own assertion, then throws later from its timer (or its promise rejects later).
const FAILS_LATE = [
  "test('fails, then throws late', () => { setTimeout(() => { throw new Error('late boom'); }, 10); expect(1).toBe(2); });",
  "test('waits', () => new Promise((r) => setTimeout(r, 100)));",
  '',
].join('\n');
const FAILED_FILES: Record<string, string> = {
  // Every test sent live, once, as many failed as in the file's result: only the errors differ.
  'fails-late.test.js': FAILS_LATE,
  'fails-late-skip.test.js': `test.skip('skipped', () => {});\n${FAILS_LATE}`,
  'rejects-late.test.js': [
    "test('fails, then rejects late', () => {",
    "  new Promise((r) => setTimeout(r, 10)).then(() => { throw new Error('late boom'); });",
    '  expect(1).toBe(2);',
    '});',
    "test('waits', () => new Promise((r) => setTimeout(r, 100)));",
    '',
  ].join('\n'),
};

describe.each([29, 30])('jest %i: a test that failed, then threw after it ended', (major) => {
  it('ends with every error jest gives it (its own and the late one), counted once', async () => {
    const name = `jest-failed-late-${process.pid}-${randomBytes(4).toString('hex')}`;
    const dir = writeProject(join(compatDir(major), 'work', name), {
      'package.json': '{ "name": "jest-failed-late-fixture", "private": true }\n',
      'jest.config.cjs': "module.exports = { reporters: ['default', '@testwire/jest'] };\n",
      ...FAILED_FILES,
    });
    try {
      const bin = join(compatDir(major), 'node_modules', 'jest', 'bin', 'jest.js');
      const args = [bin, '--ci', '--json', '--outputFile=jest.json'];
      expect(await runToExit(process.execPath, args, dir, runnerEnv(stream.url))).toBe(1);
      const jest = JSON.parse(readFileSync(join(dir, 'jest.json'), 'utf8'));
      const run = await stream.runOf(basename(dir));
      const data = (type: string) => run.filter((e) => e.type === type).map((e) => e.data as any);
      const results = data('test.result');
      const final = new Map<string, any>();
      for (const result of results) final.set(result.id, result);
      const STATUS: Record<string, string> = { passed: 'passed', failed: 'failed', pending: 'skipped' };
      // Each test: its status, and each of its errors' message as jest has it (the first line, `late boom`).
      const firstLines = (texts: string[]) =>
        texts.map((text) => text.split('\n')[0].replace(/^\w*Error: /, ''));
      const reported = jest.testResults
        .flatMap((file: any) =>
          file.assertionResults.map((a: any) => [
            basename(file.name),
            a.title,
            STATUS[a.status],
            firstLines(a.failureMessages),
          ]),
        )
        .sort();
      const mirrored = [...final.values()]
        .map((r) => [
          r.file,
          r.testName,
          r.status,
          (r.errors ?? []).map((e: any) => e.message.split('\n')[0]),
        ])
        .sort();
      expect(mirrored).toEqual(reported);
      // Where each jest pins the late error: on the test running (29), on the test that threw it (30), which
      // then has two errors.
      const thrower = (file: string) =>
        file === 'rejects-late.test.js' ? 'fails, then rejects late' : 'fails, then throws late';
      for (const file of Object.keys(FAILED_FILES)) {
        const late = reported.filter((r: any[]) => r[0] === file && r[3].includes('late boom'));
        expect(late.map((r: any[]) => [r[1], r[3].length])).toEqual(
          major >= 30 ? [[thrower(file), 2]] : [['waits', 1]],
        );
        // Jest 30: the attempt streamed live failed with its own error, then again with both (same attempt).
        const attempts = results
          .filter((r) => r.file === file && r.testName === thrower(file))
          .map((r) => [r.attempt, r.status, r.errors.length]);
        expect(attempts).toEqual(
          major >= 30
            ? [
                [1, 'failed', 1],
                [1, 'failed', 2],
              ]
            : [[1, 'failed', 1]],
        );
      }
      expect(data('test.completed')[0].summary).toMatchObject({
        total: jest.numTotalTests,
        passed: jest.numPassedTests,
        failed: jest.numFailedTests,
        skipped: jest.numPendingTests,
        success: false,
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
