/**
 * `npx testwire …` where the READMEs say to run it (the repository root, examples/, each example) runs
 * this workspace's CLI — never a package fetched from a registry: npm is pointed at a closed local port
 * and kept offline, so a lookup fails the test instead of asking the public registry for `testwire`.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, freePort, PACKAGE_DIR, REPO_ROOT, run, type Serve, startServe } from './helpers.js';

const EXAMPLES = ['jest', 'vitest', 'playwright', 'mocha'];
const hasNpx = spawnSync('npx', ['--version'], { stdio: 'ignore' }).status === 0;

/** `npx testwire …` in `dir` (relative to the repository root), unable to reach any registry. */
async function npx(dir: string, args: string[], closedPort: number) {
  return run('npx', ['testwire', ...args], {
    cwd: join(REPO_ROOT, dir),
    env: {
      npm_config_registry: `http://127.0.0.1:${closedPort}/`,
      npm_config_offline: 'true',
      npm_config_update_notifier: 'false',
      TESTWIRE_URL: '',
      TESTWIRE_PORT: '',
      TESTWIRE_API_KEY: '',
    },
    timeoutMs: 60_000,
  });
}

describe.skipIf(!hasNpx && !process.env.CI)('npx testwire, where the READMEs say to run it', () => {
  let serve: Serve;
  let closedPort: number;
  beforeAll(async () => {
    assertBuilt();
    closedPort = await freePort();
    serve = await startServe(['--port', '0']);
  });
  afterAll(async () => {
    await serve?.stop();
  });

  // The root, a folder without a package.json of its own, and an example: npx looks up each of them its
  // own way (the nearest package root's node_modules/.bin).
  it.each(['.', 'examples', 'examples/mocha'])('%s: npx testwire status', async (dir) => {
    const out = await npx(dir, ['status', '--url', serve.url], closedPort);
    expect(out.code, `${out.stdout}\n${out.stderr}`).toBe(0);
    expect(out.stdout).toContain(`testwire ${serve.url}  ● up`);
  });

  it.each(EXAMPLES)('examples/%s links the workspace CLI as `testwire`', (name) => {
    const dir = join(REPO_ROOT, 'examples', name);
    const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    expect(manifest.devDependencies.testwire).toBe('workspace:*');
    expect(existsSync(join(dir, 'node_modules/.bin/testwire'))).toBe(true);
  });

  it('every `npx testwire <command>` of the README and the examples’ READMEs is a command', async () => {
    const readmes = ['README.md', ...EXAMPLES.map((name) => `examples/${name}/README.md`)];
    const commands = new Set<string>();
    for (const readme of readmes) {
      const text = readFileSync(join(REPO_ROOT, readme), 'utf8');
      for (const match of text.matchAll(/npx testwire ([a-z-]+)/g)) commands.add(match[1]);
    }
    expect([...commands].sort()).toEqual(expect.arrayContaining(['status', 'tail', 'watch']));
    for (const command of commands) {
      const out = await run(process.execPath, [join(PACKAGE_DIR, 'dist/cli.js'), command, '--help']);
      expect(out.code, `testwire ${command} --help\n${out.stderr}`).toBe(0);
      expect(out.stdout).toMatch(new RegExp(`^Usage: testwire ${command} `));
    }
  });
});

describe('the testwire bin before the build', () => {
  it('says to build instead of failing on a missing module', async () => {
    // The bin as a fresh clone links it: bin/testwire.js present, dist/ not built yet.
    const dir = mkdtempSync(join(tmpdir(), 'testwire-bin-'));
    try {
      cpSync(join(PACKAGE_DIR, 'bin'), join(dir, 'bin'), { recursive: true });
      cpSync(join(PACKAGE_DIR, 'package.json'), join(dir, 'package.json'));
      expect(existsSync(join(dir, 'dist'))).toBe(false);
      const out = await run(process.execPath, [join(dir, 'bin/testwire.js'), 'status']);
      expect(out.code).toBe(1);
      expect(out.stderr).toBe(
        `testwire: the CLI is not built (${join(dir, 'dist/cli.js')} is missing): run \`pnpm build\` (or \`pnpm demo\`) at the repository root\n`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
