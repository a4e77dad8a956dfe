/**
 * The built package and how a broadcaster serves it: found without being configured, right content types
 * and cache headers, nothing outside `dist/public` reachable, nothing loaded from elsewhere.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { createRequire } from 'node:module';
import { isAbsolute, join } from 'node:path';
import { type Broadcaster, startBroadcaster } from '@testwire/broadcaster';
import { dashboardDir } from '@testwire/dashboard';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/** A raw GET: fetch() would normalize `..` out of the path before sending it. */
function rawGet(
  port: number,
  path: string,
): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'GET' }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => {
        body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('the built package', () => {
  it('exports the absolute path of the page, the same from ESM and CJS', () => {
    expect(isAbsolute(dashboardDir)).toBe(true);
    for (const file of ['index.html', 'app.js', 'style.css', 'favicon.svg']) {
      expect(existsSync(join(dashboardDir, file)), `${file} in ${dashboardDir} (run pnpm build)`).toBe(true);
    }
    const cjs = createRequire(import.meta.url)('@testwire/dashboard') as { dashboardDir: string };
    expect(cjs.dashboardDir).toBe(dashboardDir);
  });

  it('the page loads nothing from elsewhere and the script is one self-contained module', () => {
    const html = readFileSync(join(dashboardDir, 'index.html'), 'utf8');
    const css = readFileSync(join(dashboardDir, 'style.css'), 'utf8');
    const js = readFileSync(join(dashboardDir, 'app.js'), 'utf8');
    for (const text of [html, css]) {
      expect(text).not.toMatch(/(?:src|href)\s*=\s*["']?(?:https?:)?\/\//i);
      expect(text).not.toMatch(/url\(\s*["']?(?:https?:)?\/\//i);
      expect(text).not.toMatch(/@import/);
    }
    expect(html).toContain('<script type="module" src="app.js">');
    expect(html).toContain('Content-Security-Policy');
    // Bundled: no module imports left, no Node built-ins, the browser build of the client inside.
    const staticImport = /(?:^|[;}\n])\s*(?:import\s*(?:["'{*]|\w+\s*(?:,|from\b))|export\s*[{*])/;
    expect(staticImport.test(js), 'app.js has a static import or re-export').toBe(false);
    expect(/\bimport\s*\(/.test(js), 'app.js has a dynamic import()').toBe(false);
    expect(/["']node:/.test(js), 'app.js references a node: built-in').toBe(false);
    expect(js).toContain('connection.established');
    // No absolute URL to anywhere but loopback (the client's default endpoint) in what the page ships.
    for (const [name, text] of Object.entries({ html, css, js })) {
      const urls = [...text.matchAll(/\b(?:https?|wss?):\/\/[^\s"'`)<>]+/g)].map((m) => m[0]);
      const remote = urls.filter((u) => !/^(?:https?|wss?):\/\/(?:127\.0\.0\.1|localhost)[:/]/.test(u));
      // The CSP and SVG namespaces are identifiers, never fetched.
      expect(
        remote.filter((u) => !u.startsWith('http://www.w3.org/')),
        `${name}: remote URLs`,
      ).toEqual([]);
    }
  });

  it('stays within its size budget', () => {
    // What a page load transfers (source maps are fetched only by devtools). Shipped today: ~135 KB;
    // the budget leaves room for growth and fails a change that bundles a framework or a library by
    // mistake. Raise it deliberately, with the reason, if the page needs more.
    const BUDGET = 200 * 1024;
    const files = readdirSync(dashboardDir).filter((f) => !f.endsWith('.map'));
    const sizes = Object.fromEntries(files.map((f) => [f, statSync(join(dashboardDir, f)).size]));
    const total = Object.values(sizes).reduce((a, b) => a + b, 0);
    expect(total, `dist/public without source maps: ${JSON.stringify(sizes)}`).toBeLessThan(BUDGET);
    expect(total).toBeGreaterThan(10 * 1024); // the real build, not an empty folder
  });
});

describe('served by a broadcaster that was not told about it', () => {
  let b: Broadcaster;
  beforeAll(async () => {
    // No dashboardDir: the broadcaster finds the installed package on its own.
    b = await startBroadcaster({ port: 0, logger: { warn() {} } });
  });
  afterAll(() => b.close({ timeoutMs: 500 }));

  it('GET / is the dashboard', async () => {
    const res = await fetch(`${b.url}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('cache-control')).toBe('no-cache');
    expect(await res.text()).toContain('data-testid="connection-indicator"');
  });

  it('serves each asset with its content type', async () => {
    const expected: Record<string, string> = {
      '/app.js': 'text/javascript; charset=utf-8',
      '/style.css': 'text/css; charset=utf-8',
      '/favicon.svg': 'image/svg+xml',
      '/index.html': 'text/html; charset=utf-8',
    };
    for (const [path, type] of Object.entries(expected)) {
      const res = await fetch(`${b.url}${path}`);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('content-type'), path).toBe(type);
      expect(res.headers.get('x-content-type-options'), path).toBe('nosniff');
      expect((await res.arrayBuffer()).byteLength, path).toBe(
        readFileSync(join(dashboardDir, path.slice(1))).byteLength,
      );
    }
  });

  it('nothing outside the page directory is reachable', async () => {
    // dist/index.js and the package.json exist one and two levels up.
    for (const path of [
      '/../index.js',
      '/%2e%2e/index.js',
      '/..%2findex.js',
      '/%2e%2e%2f%2e%2e%2fpackage.json',
      '/..\\index.js',
      '/%00index.html',
    ]) {
      const res = await rawGet(b.port, path);
      expect(res.status, path).toBe(404);
      expect(res.body, path).not.toContain('dashboardDir');
    }
    // The API endpoints still win over files.
    expect((await fetch(`${b.url}/health`)).headers.get('content-type')).toContain('application/json');
  });
});
