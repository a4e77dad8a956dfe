/**
 * `vitest run --typecheck` with type errors, end to end on Vitest 3 and 4 (compat/vitest-<major>), into a
 * real broadcaster and WebSocket subscriber, against Vitest's json reporter and terminal output of the same
 * run. tsc's errors reach reporters as `TypeCheckError`s with an empty `stack` and their place in `stacks`:
 * every failure in the stream says where, as Vitest prints it (`❯ types.test-d.ts:3:57`); a type error in a
 * describe block outside its tests is the file's (`scope: 'file'`, as one at the top of the file), not a hook's;
 * the type tests' glob is among framework.detected's `testPatterns`; tests, statuses and counts are Vitest's.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AnyEventEnvelope } from '@testwire/protocol';
import { type LiveStream, openStream, runnerEnv, runWithOutput, writeProject } from '@testwire-tests/support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

let stream: LiveStream;
beforeAll(async () => {
  stream = await openStream();
});
afterAll(() => stream?.close());

const FILES = {
  'package.json': '{ "name": "vitest-typecheck-fixture", "private": true, "type": "module" }\n',
  'tsconfig.json': JSON.stringify({
    compilerOptions: {
      strict: true,
      module: 'esnext',
      moduleResolution: 'bundler',
      target: 'es2022',
      noEmit: true,
      skipLibCheck: true,
    },
    include: ['*.ts'],
  }),
  'vitest.config.js': "import { defineConfig } from 'vitest/config';\nexport default defineConfig({});\n",
  'plain.test.js': "import { test } from 'vitest';\ntest('runs', () => {});\n",
  // A failing type assertion in a test (line 3, column 57 of tsc's error).
  'types.test-d.ts': [
    "import { expectTypeOf, test } from 'vitest';",
    "test('types ok', () => { expectTypeOf(1).toEqualTypeOf<number>(); });",
    "test('types bad', () => { expectTypeOf(1).toEqualTypeOf<string>(); });",
    '',
  ].join('\n'),
  // A type error at the top of the file, outside any test.
  'top.test-d.ts': [
    "import { expectTypeOf, test } from 'vitest';",
    "const n: number = 'not a number';",
    "test('fine', () => { expectTypeOf(n).toEqualTypeOf<number>(); });",
    '',
  ].join('\n'),
  // A type error in a describe block, outside its test.
  'block.test-d.ts': [
    "import { describe, expectTypeOf, test } from 'vitest';",
    "describe('block', () => {",
    '  const s: string = 42;',
    "  test('inner', () => { expectTypeOf(s).toEqualTypeOf<string>(); });",
    '});',
    '',
  ].join('\n'),
};

interface Failed {
  testName: string;
  titlePath?: string[];
  file: string;
  scope?: string;
  error: { message: string; stack?: string; type?: string };
}

interface JsonReport {
  numTotalTests: number;
  numPassedTests: number;
  numFailedTests: number;
  testResults: { name: string; assertionResults: { title: string; status: string }[] }[];
}

describe.each([3, 4])('vitest %i: --typecheck with type errors', (major) => {
  let events: AnyEventEnvelope[] = [];
  let report: JsonReport;
  let output = '';

  beforeAll(async () => {
    const name = `vitest-typecheck-${process.pid}-${randomBytes(4).toString('hex')}`;
    const dir = writeProject(join(repo, 'compat', `vitest-${major}`, 'work', name), FILES);
    try {
      const bin = join(repo, 'compat', `vitest-${major}`, 'node_modules', 'vitest', 'vitest.mjs');
      const args = [bin, 'run', '--typecheck', '--reporter=default', '--reporter=@testwire/vitest'];
      const run = await runWithOutput(
        process.execPath,
        [...args, '--reporter=json', '--outputFile.json=report.json'],
        dir,
        runnerEnv(stream.url),
      );
      output = run.output;
      expect(run.code, output).toBe(1);
      // No report: Vitest did not get to run (what it printed says why).
      expect(existsSync(join(dir, 'report.json')), output).toBe(true);
      report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as JsonReport;
      events = await stream.runOf(basename(dir));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 180_000);

  const failures = (): Failed[] =>
    events.filter((e) => e.type === 'test.failed').map((e) => e.data as Failed);

  it('every failure says where tsc found it, as Vitest prints it', () => {
    // Vitest's own lines: ❯ types.test-d.ts:3:57 (the failed test), and the files' errors.
    for (const where of ['types.test-d.ts:3:57', 'top.test-d.ts:2:7', 'block.test-d.ts:3:9'])
      expect(output).toContain(`❯ ${where}`);
    const byFile = new Map(failures().map((failure) => [failure.file, failure]));
    expect(byFile.get('types.test-d.ts')).toMatchObject({
      testName: 'types bad',
      scope: 'test',
      error: { type: 'TypeCheckError', stack: '    at types.test-d.ts:3:57' },
    });
    expect(byFile.get('top.test-d.ts')).toMatchObject({
      scope: 'file',
      error: {
        message: "Type 'string' is not assignable to type 'number'.",
        stack: '    at top.test-d.ts:2:7',
      },
    });
    expect(failures().length).toBe(3);
  });

  it("a type error in a describe block outside its tests is the file's, not a hook's", () => {
    const block = failures().filter((failure) => failure.file === 'block.test-d.ts');
    expect(block).toMatchObject([
      {
        scope: 'file',
        error: {
          message: "Type 'number' is not assignable to type 'string'.",
          stack: '    at block.test-d.ts:3:9',
        },
      },
    ]);
    const errors = events
      .filter((e) => e.type === 'framework.error')
      .map((e) => e.data as { file?: string; error: { code: string; details?: { suggestion?: string } } });
    expect(errors.map((e) => `${e.file} ${e.error.code}`).sort()).toEqual([
      'block.test-d.ts TYPE_ERROR',
      'top.test-d.ts TYPE_ERROR',
    ]);
    // Not "failed while it was being loaded, before any test ran": its tests ran.
    for (const error of errors)
      expect(error.error.details?.suggestion).toMatch(/type error .* the file's tests ran/);
  });

  it("tests, statuses and counts are Vitest's; the type tests' glob is a test pattern", () => {
    const results = events
      .filter((e) => e.type === 'test.result')
      .map((e) => e.data as { titlePath: string[]; status: string })
      .map((r) => `${r.titlePath.at(-1)}: ${r.status}`)
      .sort();
    const vitests = report.testResults
      .flatMap((file) => file.assertionResults.map((test) => `${test.title}: ${test.status}`))
      .sort();
    expect(results).toEqual(vitests);
    const completed = events.find((e) => e.type === 'test.completed')?.data as { summary: object };
    expect(completed.summary).toMatchObject({
      total: report.numTotalTests,
      passed: report.numPassedTests,
      failed: report.numFailedTests,
      success: false,
    });
    const detected = events.find((e) => e.type === 'framework.detected')?.data as {
      frameworks: { name: string; testPatterns?: string[] }[];
    };
    const patterns = detected.frameworks.find((framework) => framework.name === 'vitest')?.testPatterns;
    expect(patterns).toContain('**/*.{test,spec}-d.?(c|m)[jt]s?(x)');
    expect(patterns).toContain('**/*.{test,spec}.?(c|m)[jt]s?(x)');
  });
});
