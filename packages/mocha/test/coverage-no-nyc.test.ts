/**
 * Under nyc, when nyc's istanbul-lib-coverage can be found nowhere — beside the nyc that runs the process, nor
 * from the project — the coverage cannot be summarized: one stderr line says so (coverage.started was sent,
 * and nothing else would tell why coverage.completed does not follow). No real nyc can be in that state (its
 * index.js is in the module cache of the process it runs), so node's module loading is stubbed here: nothing
 * in the cache, nothing resolves.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';

vi.mock('node:module', async (original) => {
  const real = await original<typeof import('node:module')>();
  const nothing = () => {
    throw Object.assign(new Error('Cannot find module'), { code: 'MODULE_NOT_FOUND' });
  };
  const createRequire = () => Object.assign(nothing, { cache: {}, resolve: nothing });
  return { ...real, default: { ...real, createRequire }, createRequire };
});

const { nycCoverageReport } = await import('../src/coverage.js');

afterEach(() => {
  vi.restoreAllMocks();
});

describe('nycCoverageReport, nyc’s istanbul-lib-coverage nowhere to be found', () => {
  it('no report, and one stderr line that says so (once)', () => {
    const write = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const env = { NYC_CONFIG: JSON.stringify({ cwd: '/nowhere', tempDir: '/nowhere/.nyc_output' }) };
    const counters = { '/nowhere/a.js': {} };
    expect(nycCoverageReport(env, counters)).toBeUndefined();
    expect(nycCoverageReport(env, counters)).toBeUndefined();
    const lines = write.mock.calls.map(([text]) => String(text));
    expect(lines).toEqual([
      expect.stringMatching(
        /^testwire: nyc's coverage is not streamed: its istanbul-lib-coverage was found neither beside the nyc that runs this process nor from \/nowhere\n$/,
      ),
    ]);
  });
});
