import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';

// Loading the reporter is on the runner's critical path (budget B2 of issue 13): the built-ins only parallel
// mode (node:crypto for the relay's token) or c8 (node:v8) need load when those start, not with the module;
// so do those parts themselves (dist/parallel-relay.cjs, dist/dropped-files.cjs, dist/c8.cjs: parts.ts).
describe('what loading the reporter loads', () => {
  it('the built CommonJS entry loads neither node:crypto nor node:v8, nor the relay, dropped-files or c8 parts', async () => {
    const dist = join(__dirname, '..', 'dist', 'index.cjs');
    const script = `
      const Reporter = require(${JSON.stringify(dist)});
      const builtins = process.moduleLoadList.filter((m) => m.startsWith('NativeModule ')).map((m) => m.slice(13));
      const files = Object.keys(require.cache);
      process.stdout.write(JSON.stringify({ isClass: typeof Reporter === 'function', builtins, files }));
    `;
    const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    expect(await new Promise((resolve) => child.on('close', resolve))).toBe(0);
    const { isClass, builtins, files } = JSON.parse(stdout) as {
      isClass: boolean;
      builtins: string[];
      files: string[];
    };
    expect(isClass).toBe(true);
    expect(builtins).toContain('worker_threads');
    expect(builtins).not.toContain('crypto');
    expect(builtins).not.toContain('v8');
    expect(files.map((file) => basename(file))).toContain('index.cjs');
    expect(files.filter((file) => /[\\/](parallel-relay|dropped-files|c8)\.cjs$/.test(file))).toEqual([]);
    // nor does the entry hold their code (a static import would bundle it in)
    const entry = readFileSync(dist, 'utf8');
    expect(entry).not.toMatch(/\b(ParallelRelay|C8Coverage) = class\b/);
    expect(entry).not.toMatch(/function (droppedFiles|droppedFileError|droppedTestFailure|reasonsOf)\(/);
  });

  // Mocha makes its reporter ~35 ms after loading it, just before the run: the reporter's thread starts when the
  // module loads, so that a short run's final hook does not wait for all of its start (index.ts) — when a mocha
  // is what loads it.
  it.skipIf(process.platform !== 'linux')(
    "loading the built entry starts the reporter's thread when mocha is loaded, unless TESTWIRE=off",
    async () => {
      const dist = join(__dirname, '..', 'dist', 'index.cjs');
      const mocha = createRequire(import.meta.url).resolve('mocha');
      // A Worker's thread exists as soon as it is constructed: one more entry in /proc/self/task.
      const script = (withMocha: boolean) => `
        const tasks = () => require('node:fs').readdirSync('/proc/self/task').length;
        ${withMocha ? `require(${JSON.stringify(mocha)});` : ''}
        const before = tasks();
        require(${JSON.stringify(dist)});
        process.stdout.write(String(tasks() - before));
      `;
      const added = async (withMocha: boolean, env: NodeJS.ProcessEnv) => {
        const child = spawn(process.execPath, ['-e', script(withMocha)], {
          stdio: ['ignore', 'pipe', 'inherit'],
          env,
        });
        let stdout = '';
        child.stdout.on('data', (chunk) => {
          stdout += chunk;
        });
        expect(await new Promise((resolve) => child.on('close', resolve))).toBe(0);
        return Number(stdout);
      };
      const { TESTWIRE: _on, ...env } = process.env;
      expect(await added(true, env)).toBe(1);
      expect(await added(true, { ...env, TESTWIRE: 'off' })).toBe(0);
      // imported by a tool or a test, not by mocha: no thread
      expect(await added(false, env)).toBe(0);
    },
  );
});
