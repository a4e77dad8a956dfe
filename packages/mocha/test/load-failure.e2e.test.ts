/**
 * A test file that cannot load, serial mode, end to end: real mocha CLI of each major, a real broadcaster and
 * WebSocket subscriber. mocha loads the files before it makes its reporter, and on a file that does not load
 * it prints "Exception during run" and exits 1: the stream still has the run — test.started, the file's
 * failure (test.failed scope 'file', framework.error with the code and the file), test.completed
 * success: false with no test counted, as mocha ran none — and the terminal is mocha's.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { AnyEventEnvelope } from '@testwire/protocol';
import { type LiveStream, openStream, until, writeProject } from '@testwire-tests/support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanEnv, MAJORS, type Major, mochaDir, runChild, runMochaCli, runOf } from './helpers/run.js';

let stream: LiveStream;
beforeAll(async () => {
  stream = await openStream();
});
afterAll(() => stream?.close());

function project(major: Major): string {
  const name = `mocha-load-failure-${process.pid}-${randomBytes(4).toString('hex')}`;
  return writeProject(join(mochaDir(major), 'work', name), {
    'package.json': '{ "name": "mocha-load-failure-fixture", "private": true }\n',
    'test/ok.test.cjs': "it('ok', () => {});\n",
    'test/missing.test.cjs': "require('./nope');\nit('never declared', () => {});\n",
    'test/syntax.test.cjs': "it('ok', () => {\n",
    // node's SyntaxError says where: line 2, under `;` (column 13), as mocha prints it
    'test/token.test.cjs': "it('ok', () => {\n  const x = ;\n});\n",
    'test/later.test.cjs': "it('never loaded', () => {});\n",
    // a program driving mocha, the reporter given by name: mocha.run() loads the files itself (require)
    'run.cjs': [
      // mocha 12's CommonJS entry is a namespace; 10 and 11's the class
      "const loaded = require('mocha');",
      'const Mocha = loaded.default ?? loaded;',
      "const mocha = new Mocha({ reporter: '@testwire/mocha', reporterOptions: { reporter: 'dot' } });",
      'for (const file of process.argv.slice(2)) mocha.addFile(file);',
      'mocha.run((failures) => { process.exitCode = failures ? 1 : 0; });',
      '',
    ].join('\n'),
    // the same with the files loaded first, as an ES module program does
    'run-async.mjs': [
      "import { createRequire } from 'node:module';",
      "const loaded = createRequire(import.meta.url)('mocha');",
      'const Mocha = loaded.default ?? loaded;',
      "const mocha = new Mocha({ reporter: '@testwire/mocha', reporterOptions: { reporter: 'dot' } });",
      'for (const file of process.argv.slice(2)) mocha.addFile(file);',
      'await mocha.loadFilesAsync();',
      'mocha.run((failures) => { process.exitCode = failures ? 1 : 0; });',
      '',
    ].join('\n'),
  });
}

describe.each(MAJORS)('mocha %i, serial: a test file that cannot load', (major) => {
  it.each([
    ['missing.test.cjs', 'MODULE_NOT_FOUND', /^Cannot find module '\.\/nope'/, 'Error'],
    ['syntax.test.cjs', 'SYNTAX_ERROR', /^Unexpected end of input/, 'SyntaxError'],
    ['token.test.cjs', 'SYNTAX_ERROR', /^Unexpected token ';'/, 'SyntaxError'],
  ])(
    '%s: a run with the file’s failure (%s) and test.completed success: false; mocha’s own output unchanged',
    async (file, code, message, type) => {
      const dir = project(major);
      try {
        const result = await runMochaCli(
          major,
          [
            '--reporter',
            '@testwire/mocha',
            '--reporter-option',
            'reporter=dot',
            'test/ok.test.cjs',
            `test/${file}`,
            'test/later.test.cjs',
          ],
          dir,
          { TESTWIRE_URL: stream.url },
        );
        // what mocha does, as without testwire
        expect(result.exitCode, result.stderr).toBe(1);
        expect(result.stderr).toContain('Exception during run');
        expect(result.stderr).toMatch(
          type === 'SyntaxError' ? /SyntaxError: Unexpected (end|token)/ : /nope/,
        );

        const events = await runOf(stream, dir, result);
        const started = only(events, 'test.started');
        expect(started.data).toMatchObject({ framework: 'mocha', totalTests: 0 });
        expect(started.data.testFiles).toEqual(['test/ok.test.cjs', `test/${file}`, 'test/later.test.cjs']);

        const failed = only(events, 'test.failed');
        expect(failed.data).toMatchObject({ scope: 'file', file: `test/${file}` });
        expect(failed.data.error?.message).toMatch(message);
        const error = only(events, 'framework.error');
        expect(error.data).toMatchObject({
          file: `test/${file}`,
          severity: 'error',
          error: { code, details: { type } },
        });
        expect(error.data.error.message).toMatch(message);
        if (file === 'token.test.cjs') {
          // where, as mocha prints it ("…/token.test.cjs:2" and a caret under column 13): the user's frame
          expect(result.stderr).toContain(`test/${file}:2\n  const x = ;\n            ^`);
          expect(failed.data.error.stack).toBe(`    at test/${file}:2:13`);
          expect(failed.data.error.fullStack?.split('\n')[0]).toBe(`    at test/${file}:2:13`);
          expect(error.data.error.stack).toBe(`    at test/${file}:2:13`);
        }

        // mocha ran no test: none is reported, none is counted
        expect(events.filter((e) => e.type === 'test.result')).toEqual([]);
        const completed = only(events, 'test.completed');
        expect(completed.data.summary).toMatchObject({ total: 0, passed: 0, failed: 0, success: false });
        expect(completed.data.interrupted).toBeFalsy();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
    60_000,
  );
});

describe.each(MAJORS)('mocha %i, a program: new Mocha({ reporter: "@testwire/mocha" })', (major) => {
  it.each([
    ['run.cjs', 'mocha.run() loads the files (require): it throws'],
    ['run-async.mjs', 'await mocha.loadFilesAsync(): it rejects'],
  ])(
    '%s (%s): the run is streamed, flushed before the error reaches the program',
    async (program) => {
      const dir = project(major);
      try {
        const files = ['test/ok.test.cjs', 'test/missing.test.cjs', 'test/later.test.cjs'];
        const result = await runChild(
          process.execPath,
          [program, ...files],
          dir,
          cleanEnv({ TESTWIRE_URL: stream.url }),
        );
        // the program does not catch it: node prints it and exits 1, as without testwire
        expect(result.exitCode, result.stderr).toBe(1);
        expect(result.stderr).toContain("Cannot find module './nope'");

        const events = await runOf(stream, dir, result);
        expect(only(events, 'test.started').data).toMatchObject({ totalTests: 0, testFiles: files });
        expect(only(events, 'test.failed').data).toMatchObject({
          scope: 'file',
          file: 'test/missing.test.cjs',
        });
        expect(only(events, 'framework.error').data).toMatchObject({
          file: 'test/missing.test.cjs',
          error: { code: 'MODULE_NOT_FOUND' },
        });
        expect(events.filter((e) => e.type === 'test.result')).toEqual([]);
        expect(only(events, 'test.completed').data.summary).toMatchObject({ total: 0, success: false });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
    60_000,
  );
});

describe.each(MAJORS)('mocha %i --watch: a test file that cannot load', (major) => {
  it('each run that fails to load is a run of its own; mocha keeps watching, and the fixed file reruns', async () => {
    const dir = project(major);
    const rootName = basename(dir);
    const child = spawn(
      process.execPath,
      [
        join(mochaDir(major), 'node_modules/mocha/bin/mocha.js'),
        '--no-color',
        '--watch',
        '--reporter',
        '@testwire/mocha',
        '--reporter-option',
        'reporter=dot',
        'test/ok.test.cjs',
        'test/missing.test.cjs',
      ],
      { cwd: dir, env: cleanEnv({ TESTWIRE_URL: stream.url }), stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    try {
      const [failed] = await stream.waitForRuns(rootName, 1, 30_000);
      expect(failed, stderr).toBeDefined();
      const events = stream.received().filter((e) => e.runId === failed);
      expect(only(events, 'test.started').data).toMatchObject({ totalTests: 0 });
      expect(only(events, 'test.failed').data).toMatchObject({
        scope: 'file',
        file: 'test/missing.test.cjs',
      });
      expect(only(events, 'framework.error').data.error).toMatchObject({ code: 'MODULE_NOT_FOUND' });
      expect(only(events, 'test.completed').data.summary).toMatchObject({ total: 0, success: false });
      // mocha prints it (after the run was flushed) and watches on
      await until(
        'mocha printed the error',
        () => stderr.includes("Cannot find module './nope'") || undefined,
      );

      // the file fixed: mocha reruns, a run of its own with both files' tests
      // (written again while no rerun came for 5 s: a watcher can miss a change that comes too soon)
      let written = 0;
      const runs = await until(
        'a rerun',
        () => {
          const completed = stream.completedRuns(rootName);
          if (completed.length >= 2) return completed;
          if (Date.now() - written > 5000) {
            writeFileSync(join(dir, 'test/missing.test.cjs'), "it('now declared', () => {});\n");
            written = Date.now();
          }
          return undefined;
        },
        30_000,
      );
      expect(runs, stderr).toHaveLength(2);
      const rerun = stream.received().filter((e) => e.runId === runs[1]);
      expect(
        rerun.filter((e) => e.type === 'test.result').map((e) => [e.data.testName, e.data.status]),
      ).toEqual([
        ['ok', 'passed'],
        ['now declared', 'passed'],
      ]);
      expect(only(rerun, 'test.completed').data.summary).toMatchObject({ total: 2, success: true });
    } finally {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill();
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);
});

describe.each(MAJORS)('mocha %i --parallel: a test file that does not parse', (major) => {
  it('the file’s failure says where, as mocha prints it (<file>:<line>:<column>, the user’s frame)', async () => {
    const dir = project(major);
    try {
      const result = await runMochaCli(
        major,
        ['--parallel', '--reporter', '@testwire/mocha', 'test/ok.test.cjs', 'test/token.test.cjs'],
        dir,
        { TESTWIRE_URL: stream.url },
      );
      // mocha reports it outside the run, with node's place
      expect(result.exitCode, result.stderr).toBe(1);
      expect(result.stdout).toContain('token.test.cjs:2\n  const x = ;\n            ^');

      const events = await runOf(stream, dir, result);
      const failed = only(events, 'test.failed');
      expect(failed.data).toMatchObject({ scope: 'file', file: 'test/token.test.cjs' });
      expect(failed.data.error).toMatchObject({
        type: 'SyntaxError',
        stack: '    at test/token.test.cjs:2:13',
      });
      const error = only(events, 'framework.error');
      expect(error.data.error).toMatchObject({
        code: 'SYNTAX_ERROR',
        stack: '    at test/token.test.cjs:2:13',
        details: { type: 'SyntaxError' },
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

function only<T extends AnyEventEnvelope['type']>(events: AnyEventEnvelope[], type: T) {
  const found = events.filter(
    (event): event is Extract<AnyEventEnvelope, { type: T }> => event.type === type,
  );
  expect(found, type).toHaveLength(1);
  return found[0];
}
