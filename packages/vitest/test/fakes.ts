/**
 * Hand-built Vitest entities (the structural subset the reporter reads) for driving hooks directly: edge
 * cases a real run can't produce on demand (a version without `diagnostic()`, errors that don't match the
 * retry count, hooks arriving out of order).
 */
import type {
  VitestContext,
  VitestError,
  VitestTestCase,
  VitestTestDiagnostic,
  VitestTestModule,
  VitestTestResult,
  VitestTestSuite,
} from '../src/vitest-types.js';

export const ROOT = '/repo';

export function context(config: Partial<VitestContext['config']> = {}): VitestContext {
  return { version: '4.1.0', config: { root: ROOT, watch: false, ...config } };
}

interface Children {
  tests: VitestTestCase[];
  suites: VitestTestSuite[];
}

export interface FakeModule extends VitestTestModule {
  _children: Children;
  _errors: VitestError[];
  _state: string;
}

export function module(file: string, id = `m:${file}`): FakeModule {
  const children: Children = { tests: [], suites: [] };
  const m: FakeModule = {
    type: 'module',
    id,
    project: { name: '' },
    moduleId: `${ROOT}/${file}`,
    _children: children,
    _errors: [],
    _state: 'pending',
    children: { allTests: () => children.tests, allSuites: () => children.suites },
    errors: () => m._errors,
    state: () => m._state,
  };
  return m;
}

export interface FakeSuite extends VitestTestSuite {
  _errors: VitestError[];
}

export function suite(parent: FakeModule | FakeSuite, name: string): FakeSuite {
  const root = parent.type === 'module' ? parent : (parent.module as FakeModule);
  const children: Children = { tests: [], suites: [] };
  const s: FakeSuite = {
    type: 'suite',
    id: `${parent.id}/${name}`,
    project: { name: '' },
    name,
    module: root,
    parent,
    _errors: [],
    children: { allTests: () => children.tests, allSuites: () => children.suites },
    errors: () => s._errors,
  };
  root._children.suites.push(s);
  return s;
}

export interface FakeTest extends VitestTestCase {
  _result: VitestTestResult;
  _diagnostic: VitestTestDiagnostic | undefined;
}

export function testCase(parent: FakeModule | FakeSuite, name: string, mode = 'run'): FakeTest {
  const root = parent.type === 'module' ? parent : (parent.module as FakeModule);
  const t: FakeTest = {
    type: 'test',
    id: `${parent.id}/${name}`,
    project: { name: '' },
    name,
    module: root,
    parent,
    location: { line: 3, column: 5 },
    options: { mode },
    _result: { state: 'pending', errors: undefined },
    _diagnostic: undefined,
    result: () => t._result,
    diagnostic: () => t._diagnostic,
  };
  root._children.tests.push(t);
  return t;
}

/** Sets the test's final result the way Vitest reports it after all attempts. */
export function finish(
  t: FakeTest,
  state: VitestTestResult['state'],
  options: { errors?: VitestError[]; retryCount?: number; duration?: number } = {},
): FakeTest {
  t._result = { state, errors: options.errors };
  t._diagnostic = {
    duration: options.duration ?? 10,
    startTime: 1_700_000_000_000,
    retryCount: options.retryCount ?? 0,
    repeatCount: 0,
    flaky: state === 'passed' && (options.retryCount ?? 0) > 0,
    slow: false,
  };
  return t;
}

export function error(message: string): VitestError {
  return {
    name: 'AssertionError',
    message,
    stack: `AssertionError: ${message}\n    at ${ROOT}/a.test.ts:3:5`,
  };
}
