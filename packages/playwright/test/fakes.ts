/**
 * Minimal objects with the shape of Playwright's public reporter types (`Suite`, `TestCase`, `TestResult`),
 * to drive the reporter class directly. `outcome()` follows Playwright's `computeTestCaseOutcome`.
 * Real Playwright runs are covered by e2e.test.ts and the conformance suite.
 */
import type { FullConfig, Suite, TestCase, TestResult } from '@playwright/test/reporter';

export const ROOT = '/repo/app';

type SuiteType = 'root' | 'project' | 'file' | 'describe';

export function suite(type: SuiteType, title: string, parent?: Suite, projectName?: string): Suite {
  const entries: (Suite | TestCase)[] = [];
  const s = {
    type,
    title,
    parent,
    // A file suite is located at its file (line 0), as Playwright's loader makes it; its title is root-relative.
    location: type === 'file' ? { file: `${ROOT}/${title}`, line: 0, column: 0 } : undefined,
    entries: () => entries,
    get suites() {
      return entries.filter((e): e is Suite => e.type !== 'test');
    },
    get tests() {
      return entries.filter((e): e is TestCase => e.type === 'test');
    },
    allTests(): TestCase[] {
      return entries.flatMap((e) => (e.type === 'test' ? [e as TestCase] : (e as Suite).allTests()));
    },
    titlePath(): string[] {
      return [...(parent ? parent.titlePath() : []), title];
    },
    project() {
      if (type === 'project') return { name: projectName ?? title } as ReturnType<Suite['project']>;
      return parent?.project();
    },
  } as unknown as Suite;
  (parent?.entries() as unknown[] | undefined)?.push(s);
  return s;
}

export function testCase(
  parent: Suite,
  title: string,
  options: {
    file?: string;
    line?: number;
    retries?: number;
    expectedStatus?: TestCase['expectedStatus'];
  } = {},
): TestCase {
  const results: TestResult[] = [];
  const t = {
    type: 'test',
    title,
    parent,
    id: `${title}-id`,
    location: { file: options.file ?? `${ROOT}/tests/a.spec.ts`, line: options.line ?? 3, column: 7 },
    repeatEachIndex: 0,
    retries: options.retries ?? 0,
    expectedStatus: options.expectedStatus ?? 'passed',
    annotations: [],
    tags: [],
    timeout: 30_000,
    results,
    titlePath: () => [...parent.titlePath(), title],
    ok() {
      return ['expected', 'flaky', 'skipped'].includes(t.outcome());
    },
    outcome(): ReturnType<TestCase['outcome']> {
      let skipped = 0;
      let expected = 0;
      let unexpected = 0;
      for (const r of results) {
        if (r.status === 'interrupted') continue;
        if (r.status === 'skipped' && t.expectedStatus === 'skipped') skipped++;
        else if (r.status === 'skipped') continue;
        else if (r.status === t.expectedStatus) expected++;
        else unexpected++;
      }
      if (expected === 0 && unexpected === 0) return 'skipped';
      if (unexpected === 0) return 'expected';
      if (expected === 0 && skipped === 0) return 'unexpected';
      return 'flaky';
    },
  };
  (parent.entries() as unknown[]).push(t);
  return t as unknown as TestCase;
}

/** Starts an attempt the way Playwright does: a result object appended to `test.results`. */
export function begin(test: TestCase): TestResult {
  const result = {
    retry: test.results.length,
    status: 'passed',
    duration: 0,
    startTime: new Date(1_700_000_000_000),
    errors: [],
    error: undefined,
    stdout: [],
    stderr: [],
    steps: [],
    attachments: [],
    annotations: [],
    workerIndex: 0,
    parallelIndex: 0,
  } as unknown as TestResult;
  test.results.push(result);
  return result;
}

export function end(
  result: TestResult,
  status: TestResult['status'],
  duration = 5,
  errors: TestResult['errors'] = [],
) {
  Object.assign(result, { status, duration, errors, error: errors[0] });
  return result;
}

export function config(overrides: Partial<FullConfig> = {}): FullConfig {
  return {
    rootDir: ROOT,
    version: '1.99.0',
    workers: 2,
    shard: null,
    maxFailures: 0,
    projects: [{ name: 'chromium', retries: 1 }],
    ...overrides,
  } as unknown as FullConfig;
}

/** root > project 'chromium' > file tests/a.spec.ts > describe 'group' */
export function tree(projectName = 'chromium') {
  const root = suite('root', '');
  const project = suite('project', projectName, root);
  const file = suite('file', 'tests/a.spec.ts', project);
  const group = suite('describe', 'group', file);
  return { root, project, file, group };
}
