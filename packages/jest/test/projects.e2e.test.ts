/**
 * Jest `projects`, end to end on jest 29 and 30 (compat/jest-<major>) into a real broadcaster, with jest's own
 * `--json` report as the oracle. Jest hands every live hook (test start, test result) the `Test` of one
 * project — the first to use the runner — whatever project runs the file: the stream must still name each
 * test's own project, and give two projects' runs of one file ids of their own, also when the projects share
 * a `displayName` (or have none).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { stableTestId } from '@testwire/reporter-core';
import { type LiveStream, openStream, runnerEnv, runToExit, writeProject } from '@testwire-tests/support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compatDir } from './helpers.js';

let stream: LiveStream;
beforeAll(async () => {
  stream = await openStream();
});
afterAll(() => stream?.close());

const project = (name: string | undefined, match = '*.test.js') =>
  `{ ${name === undefined ? '' : `displayName: '${name}', `}testEnvironment: 'node', testMatch: ['<rootDir>/${match}'] }`;

const A_TEST = [
  "describe('d', () => {",
  "  test('one', () => {});",
  "  test('two', () => { expect(1).toBe(2); });",
  "  test.skip('sk', () => {});",
  '});',
  '',
].join('\n');

interface Ran {
  /** The stream's test.result data, every attempt. */
  results: any[];
  completed: any;
  /** jest --json: the run's test count, and each file's tests as `<file> <full name> <status>`. */
  json: { numTotalTests: number; tests: string[] };
}

/** Runs jest with `projects` on `files`, with a --json report beside the stream. */
async function runProjects(major: number, projects: string[], files: Record<string, string>): Promise<Ran> {
  const name = `jest-projects-${process.pid}-${randomBytes(4).toString('hex')}`;
  const dir = writeProject(join(compatDir(major), 'work', name), {
    'package.json': '{ "name": "jest-projects-fixture", "private": true }\n',
    'jest.config.cjs': `module.exports = { reporters: ['default', '@testwire/jest'], projects: [${projects.join(', ')}] };\n`,
    ...files,
  });
  try {
    const bin = join(compatDir(major), 'node_modules', 'jest', 'bin', 'jest.js');
    const args = [bin, '--ci', '--json', '--outputFile=report.json'];
    expect(await runToExit(process.execPath, args, dir, runnerEnv(stream.url))).toBe(1);
    const run = await stream.runOf(basename(dir));
    const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8'));
    return {
      results: run.filter((e) => e.type === 'test.result').map((e) => e.data as any),
      completed: run.find((e) => e.type === 'test.completed')?.data as any,
      json: {
        numTotalTests: report.numTotalTests,
        tests: report.testResults.flatMap((file: any) =>
          file.assertionResults.map((a: any) => `${basename(file.name)} ${a.fullName} ${a.status}`),
        ),
      },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The id a test of the fixture gets in project `runnerProject` (docs/protocol.md, "Test ids"). */
const idOf = (runnerProject: string | undefined, file: string, titlePath: string[]) =>
  stableTestId({ framework: 'jest', project: 'jest-projects-fixture', runnerProject, file, titlePath });

const asJest = (r: any) =>
  `${r.file} ${[...r.titlePath].join(' ')} ${r.status === 'skipped' ? 'pending' : r.status}`;

describe.each([29, 30])('jest %i: projects', (major) => {
  it("one file in two projects: each project's tests as that project's, once each", async () => {
    const { results, completed, json } = await runProjects(major, [project('A'), project('B')], {
      'a.test.js': A_TEST,
    });
    expect(results.map((r) => `${r.project} ${r.testName} ${r.status}`).sort()).toEqual([
      'A one passed',
      'A sk skipped',
      'A two failed',
      'B one passed',
      'B sk skipped',
      'B two failed',
    ]);
    expect(new Set(results.map((r) => r.id)).size).toBe(json.numTotalTests);
    expect(completed.summary).toMatchObject({ total: 6, passed: 2, failed: 2, skipped: 2 });
  }, 90_000);

  it.each([
    ['one displayName', 'A'],
    ['no displayName', undefined],
  ])(
    'one file in two projects with %s: as many tests as jest reports',
    async (_, name) => {
      const { results, completed, json } = await runProjects(major, [project(name), project(name)], {
        'a.test.js': A_TEST,
      });
      expect(json.numTotalTests).toBe(6);
      // Each test jest reports, once: same titles and statuses, an id of its own.
      expect(results.map(asJest).sort()).toEqual([...json.tests].sort());
      expect(new Set(results.map((r) => r.id)).size).toBe(json.numTotalTests);
      expect(completed.summary).toMatchObject({ total: 6, passed: 2, failed: 2, skipped: 2 });
      // Each told by its position among its namesakes in `projects`, as the Playwright reporter tells them.
      const projects = [`${name ?? ''}#1`, `${name ?? ''}#2`];
      expect([...new Set(results.map((r) => r.project))].sort()).toEqual(projects);
      const ids = new Set(results.map((r) => r.id));
      for (const runnerProject of projects)
        for (const title of ['one', 'two', 'sk'])
          expect(ids.has(idOf(runnerProject, 'a.test.js', ['d', title]))).toBe(true);
    },
    90_000,
  );

  it('one file in two projects read from config files of one name: as many tests as jest reports', async () => {
    const config =
      "module.exports = { displayName: 'unit', testEnvironment: 'node', testMatch: ['<rootDir>/*.test.js'] };\n";
    const { results, json } = await runProjects(
      major,
      ["'<rootDir>/one.config.cjs'", "'<rootDir>/two.config.cjs'"],
      { 'one.config.cjs': config, 'two.config.cjs': config, 'a.test.js': A_TEST },
    );
    expect(results.map(asJest).sort()).toEqual([...json.tests].sort());
    expect(new Set(results.map((r) => r.id)).size).toBe(json.numTotalTests);
    expect([...new Set(results.map((r) => r.project))].sort()).toEqual(['unit#1', 'unit#2']);
  }, 90_000);

  it("a file in one project of several: its tests are its project's, live and in the file's result", async () => {
    const { results, completed, json } = await runProjects(
      major,
      [project('A', 'a.test.js'), project('B', 'b.test.js')],
      { 'a.test.js': A_TEST, 'b.test.js': A_TEST },
    );
    expect(results.map((r) => `${r.file} ${r.project} ${r.testName} ${r.status}`).sort()).toEqual([
      'a.test.js A one passed',
      'a.test.js A sk skipped',
      'a.test.js A two failed',
      'b.test.js B one passed',
      'b.test.js B sk skipped',
      'b.test.js B two failed',
    ]);
    expect(new Set(results.map((r) => r.id)).size).toBe(json.numTotalTests);
    expect(completed.summary).toMatchObject({ total: 6, passed: 2, failed: 2, skipped: 2 });
  }, 90_000);
});
