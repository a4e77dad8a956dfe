/**
 * Server rendering: importing @testwire/react (ESM and CJS) reads no browser global, renderToString gives
 * the idle, disconnected state under React 19 and 18, and nothing is left open (the process exits by itself).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';

const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url));
const EXPECTED = '<p id="status">idle connected=false events=0 runs=0 error=null</p>';
const dirs: string[] = [];

afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

interface ChildResult {
  reactVersion: string;
  html: string;
  importTouched: string[];
  renderTouched: string[];
}

/** Runs ssr-child.mjs on `app`; resolves with its JSON line once it exited by itself (bounded). */
function renderInChild(app: string, ...args: string[]): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(fixtures, 'ssr-child.mjs'), app, ...args], {
      cwd: fixtures,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (t: string) => {
      out += t;
    });
    child.stderr.setEncoding('utf8').on('data', (t: string) => {
      err += t;
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the SSR process did not exit within 15 s (something kept it alive); stdout: ${out}`));
    }, 15_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (code !== 0) reject(new Error(`the SSR process exited with ${code}: ${err}`));
      else resolve(JSON.parse(out.trim()) as ChildResult);
    });
  });
}

describe('server rendering', () => {
  it('React 19: importing (ESM and CJS) and rendering touch no browser global; the state is idle', async () => {
    const result = await renderInChild(join(fixtures, 'ssr-app.mjs'), 'cjs');
    expect(result.reactVersion).toMatch(/^19\./);
    expect(result.importTouched).toEqual([]);
    expect(result.renderTouched).toEqual([]);
    expect(result.html).toBe(EXPECTED);
  });

  it('React 18: renderToString gives the same idle state', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'testwire-react-ssr-'));
    dirs.push(dir);
    const out = join(dir, 'ssr-app-18.mjs');
    await build({
      entryPoints: [join(fixtures, 'ssr-app.mjs')],
      outfile: out,
      bundle: true,
      platform: 'node',
      format: 'esm',
      alias: { react: 'react-18', 'react-dom': 'react-dom-18' },
      // React 18's CJS files `require` each other: give the ESM bundle a require.
      banner: {
        js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
      },
      // ws's optional native add-ons: it requires them in a try and does without.
      external: ['bufferutil', 'utf-8-validate'],
      logLevel: 'silent',
    });
    const result = await renderInChild(out);
    expect(result.reactVersion).toMatch(/^18\./);
    expect(result.importTouched).toEqual([]);
    expect(result.renderTouched).toEqual([]);
    expect(result.html).toBe(EXPECTED);
  });
});
