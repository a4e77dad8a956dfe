/**
 * jest --detectOpenHandles, end to end on jest 29 and 30 (compat/jest-<major>), streaming into a real
 * broadcaster seen by a real WebSocket subscriber. Jest assigns the handles it found still open after the
 * reporters' onRunComplete and prints them: the stream must carry the same handles — one performance.leak
 * each, jest's type, the frames jest prints, the test file it leads to — before a test.completed that counts
 * the tests as jest does. Also under --coverage --forceExit (jest decides the run, then exits at once).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { type LiveStream, openStream, runnerEnv, runWithOutput, writeProject } from '@testwire-tests/support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compatDir } from './helpers.js';

let stream: LiveStream;
beforeAll(async () => {
  stream = await openStream();
});
afterAll(() => stream?.close());

// Every handle ends by itself (the server is closed by an unref'd timer, not a handle jest reports): the run
// exits on its own. 10 s: open still when jest collects them after a run slowed down by a loaded machine.
const FILES: Record<string, string> = {
  'server.test.js': [
    "const net = require('net');",
    "test('server', () => {",
    '  const server = net.createServer().listen(0);',
    '  setTimeout(() => server.close(), 12000).unref();',
    '});',
    "test('timer', () => {",
    '  setTimeout(() => {}, 10000);',
    '});',
    '',
  ].join('\n'),
  // A helper's timer: jest's frames start in the helper and lead to the test file.
  'helper.test.js': "const helper = require('./helper');\ntest('helper timer', () => { helper.start(); });\n",
  'helper.js': 'exports.start = () => setTimeout(() => {}, 10000);\n',
  // Two timers made at one place: jest prints the handle once.
  'loop.test.js': "test('loop', () => {\n  for (let i = 0; i < 2; i++) setTimeout(() => {}, 10000);\n});\n",
};

/** The handles jest printed: `●  TYPE` and the `at …` frames after it, in order. */
function printedHandles(output: string): { type: string; frames: string[] }[] {
  const start = output.indexOf('potentially keeping Jest from exiting');
  if (start < 0) return [];
  const handles: { type: string; frames: string[] }[] = [];
  for (const line of output.slice(start).split('\n')) {
    const bullet = /^\s*●\s+(\S+)\s*$/.exec(line);
    if (bullet) handles.push({ type: bullet[1], frames: [] });
    else if (/^\s+at /.test(line) && handles.length > 0) handles[handles.length - 1].frames.push(line.trim());
  }
  return handles;
}

describe.each([29, 30])('jest %i --detectOpenHandles', (major) => {
  it.each([
    ['', ['--detectOpenHandles']],
    [' --coverage --forceExit', ['--detectOpenHandles', '--coverage', '--forceExit']],
  ])(
    'streams each open handle jest prints as a performance.leak before test.completed%s',
    async (_, flags) => {
      const name = `jest-open-handles-${process.pid}-${randomBytes(4).toString('hex')}`;
      const dir = writeProject(join(compatDir(major), 'work', name), {
        'package.json': '{ "name": "jest-open-handles-fixture", "private": true }\n',
        'jest.config.cjs': "module.exports = { reporters: ['default', '@testwire/jest'] };\n",
        ...FILES,
      });
      try {
        const bin = join(compatDir(major), 'node_modules', 'jest', 'bin', 'jest.js');
        const args = [bin, '--ci', ...flags, '--json', '--outputFile=jest.json'];
        const { code, output } = await runWithOutput(
          process.execPath,
          args,
          dir,
          runnerEnv(stream.url),
          120_000,
        );
        expect(code, output).toBe(0);
        const printed = printedHandles(output);
        // What jest printed: the server, the test's timer, the helper's, the loop's once.
        expect(printed.map((handle) => handle.type)).toEqual([
          'TCPSERVERWRAP',
          'Timeout',
          'Timeout',
          'Timeout',
        ]);
        const jest = JSON.parse(readFileSync(join(dir, 'jest.json'), 'utf8'));
        const run = await stream.runOf(basename(dir));
        const types = run.map((event) => event.type);
        const leaks = run
          .filter((event) => event.type === 'performance.leak')
          .map((event) => event.data as any);
        expect(
          leaks.map((leak) => ({ type: leak.leakType, frames: leak.stackTrace })),
          output,
        ).toEqual(printed);
        for (const leak of leaks) {
          expect(leak).toMatchObject({ type: 'open_handle', size: 0, framework: 'jest' });
          // The first frame jest prints is in the user's code here: its place is the leak's location.
          expect(`at ${leak.location}`).toBe(leak.stackTrace[0].replace(/^at .*\((.*)\)$/, 'at $1'));
        }
        // Lines, not columns: under --coverage jest reports the columns of the instrumented code (as printed).
        expect(leaks.map((leak) => [leak.testName, leak.location.replace(/:\d+$/, '')])).toEqual([
          ['server.test.js', 'server.test.js:3'],
          ['server.test.js', 'server.test.js:7'],
          ['helper.test.js', 'helper.js:1'],
          ['loop.test.js', 'loop.test.js:2'],
        ]);
        expect(types.lastIndexOf('performance.leak')).toBeLessThan(types.indexOf('test.completed'));
        const [completed] = run.filter((event) => event.type === 'test.completed').map((e) => e.data as any);
        expect(completed.interrupted).not.toBe(true);
        expect(completed.summary).toMatchObject({
          total: jest.numTotalTests,
          passed: jest.numPassedTests,
          failed: 0,
          success: true,
        });
        if (flags.includes('--coverage')) expect(types).toContain('coverage.completed');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
    180_000,
  );
});
