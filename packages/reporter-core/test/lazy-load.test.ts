import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// What loading the reporter costs the runner's thread is what it loads there (budget B2 of issue 13): the
// recorder, its options and the thread start — the protocol, the core, the broadcaster and node:crypto load
// on the reporter's own thread, or on first use (a run's first failure: error normalization alone).
describe('what the runner thread loads', () => {
  it('the built entry records a run without the protocol, the core or node:crypto; a failure loads errors.cjs alone', async () => {
    const dist = join(__dirname, '..', 'dist', 'index.cjs');
    const script = `
      const loaded = () => ({
        files: Object.keys(require.cache).map((f) => f.split(/[\\\\/]/).slice(-3).join('/')),
        builtins: process.moduleLoadList.filter((m) => m.startsWith('NativeModule ')).map((m) => m.slice(13)),
      });
      const { createReporterCore } = require(${JSON.stringify(dist)});
      const core = createReporterCore({ framework: 'mocha', rootDir: process.cwd(), port: 0, performanceIntervalMs: 0, env: {} });
      const ref = { file: 'f.js', titlePath: ['t'] };
      core.runStarted({ totalTests: 2 });
      core.testStarted(ref, 1);
      core.testResult(ref, { status: 'passed', duration: 1 });
      const recorded = loaded();
      core.testResult({ file: 'f.js', titlePath: ['u'] }, { status: 'failed', duration: 1, errors: [new Error('boom')] });
      const failed = loaded();
      void core.runCompleted({ success: false }).then(() => {
        process.stdout.write(JSON.stringify({ recorded, failed }));
      });
    `;
    const child = spawn(process.execPath, ['-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, TESTWIRE_PORT: '0' },
    });
    let stdout = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    expect(await new Promise((resolve) => child.on('close', resolve))).toBe(0);
    const { recorded, failed } = JSON.parse(stdout) as Record<
      'recorded' | 'failed',
      { files: string[]; builtins: string[] }
    >;
    const heavy = (files: string[]) =>
      files.filter((f) =>
        /protocol\/dist\/index|in-thread\.cjs|core-worker|broadcaster\/dist\/index|\/ws\//.test(f),
      );
    expect(heavy(recorded.files)).toEqual([]);
    expect(recorded.builtins).not.toContain('crypto');
    expect(recorded.files.some((f) => f.endsWith('errors.cjs'))).toBe(false);
    // the first failure: its normalization, and still nothing heavy
    expect(failed.files.some((f) => f.endsWith('dist/errors.cjs'))).toBe(true);
    expect(heavy(failed.files)).toEqual([]);
  });

  // The reporter's thread has no module resolver warmed up when it starts: its file holds the core, the protocol
  // and the broadcaster (tsup.config.ts), and requires no @testwire package by name; ws and jose load on first
  // use from this package's own dependencies.
  it("the worker's file resolves no @testwire package when the thread starts", () => {
    const worker = readFileSync(join(__dirname, '..', 'dist', 'core-worker.cjs'), 'utf8');
    const named = [...worker.matchAll(/\b(?:require|import)\("([^"]+)"\)/g)].map((m) => m[1] as string);
    expect(named.filter((id) => id.startsWith('@testwire/'))).toEqual([]);
    // Node's built-ins aside, only jose (its dynamic import); ws goes through createRequire (ws-module.ts).
    const builtin = (id: string) => id.startsWith('node:') || builtinModules.includes(id);
    expect(named.filter((id) => !builtin(id))).toEqual(['jose']);
    const own = JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    expect(Object.keys(own.dependencies)).toEqual(expect.arrayContaining(['ws', 'jose']));
  });
});
