import { describe, expect, it } from 'vitest';
import { classifyOutsideError } from '../src/outside-error.js';

const config = { globalSetup: '/p/setup.mjs', globalTeardown: '/p/teardown.mjs' };
const at = (file: string) => ({ file, line: 1, column: 1 });

describe('classifyOutsideError', () => {
  it("a located error before any test is a spec file's that failed to load", () => {
    expect(classifyOutsideError(config, { message: 'boom', location: at('/p/a.spec.ts') }, false)).toEqual({
      kind: 'file',
      file: '/p/a.spec.ts',
    });
  });

  it("the globalSetup's file before any test: the globalSetup; after a test began: its returned teardown", () => {
    const error = { message: 'boom', location: at('/p/setup.mjs') };
    expect(classifyOutsideError(config, error, false)).toMatchObject({
      kind: 'run',
      info: { code: 'HOOK_FAILED', file: '/p/setup.mjs', details: { hook: 'globalSetup' } },
    });
    expect(classifyOutsideError(config, error, true)).toMatchObject({
      info: { code: 'HOOK_FAILED', details: { hook: 'globalTeardown' } },
    });
  });

  it("the globalTeardown's file: the globalTeardown, even when no test ran", () => {
    expect(
      classifyOutsideError(config, { message: 'x', location: at('/p/teardown.mjs') }, false),
    ).toMatchObject({
      info: { code: 'HOOK_FAILED', details: { hook: 'globalTeardown' } },
    });
  });

  it('webServer, no tests, maxFailures (coloured as Playwright 1.65 sends it): run errors named by phase', () => {
    const phase = (message: string) => classifyOutsideError(config, { message }, true);
    expect(phase('Error: Process from config.webServer was not able to start. Exit code: 1')).toMatchObject({
      info: { code: 'RUN_ERROR', details: { phase: 'webServer' } },
    });
    expect(phase('Error: No tests found')).toMatchObject({ info: { details: { phase: 'noTests' } } });
    expect(
      phase('\u001b[31mTesting stopped early after 3 maximum allowed failures.\u001b[39m'),
    ).toMatchObject({
      info: { details: { phase: 'maxFailures' } },
    });
  });

  it('anything else after the tests began: a run error the core classifies', () => {
    expect(
      classifyOutsideError(config, { message: 'worker crashed', location: at('/p/a.spec.ts') }, true),
    ).toEqual({
      kind: 'run',
    });
    expect(classifyOutsideError(undefined, { message: 'boom' }, false)).toEqual({ kind: 'run' });
  });
});
