import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { startBroadcaster } from '@testwire/broadcaster';
import type { AnyEventEnvelope } from '@testwire/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type WebSocket from 'ws';
import { splitNodeOptions, threadEnv } from '../src/thread-env.js';
import { completedRun, subscribeAll } from './helpers.js';

// How the reporter's thread starts (thread.ts, thread-env.ts): with Yarn PnP's runtime and nothing else of
// the runner's NODE_OPTIONS; and when it cannot load its file, the calls are applied on the runner's thread.

const yarn = {
  runtime: '/home/me/app/.pnp.cjs',
  loader: 'file:///home/me/app/.pnp.loader.mjs',
};
const yarnNodeOptions = `--require ${yarn.runtime} --experimental-loader ${yarn.loader}`;

describe("the reporter's thread's env (threadEnv)", () => {
  const noRuntime = () => undefined;

  it('has no NODE_OPTIONS outside Yarn PnP, whatever they hold', () => {
    const env = threadEnv(
      { NODE_OPTIONS: `${yarnNodeOptions} --require dd-trace/init`, PATH: '/bin', TESTWIRE_PORT: '7400' },
      [],
      false,
      noRuntime,
    );
    expect(env).toEqual({ PATH: '/bin', TESTWIRE_PORT: '7400' });
  });

  const runnerNodeOptions = `--max-old-space-size=4096 --require /home/me/apm.cjs ${yarnNodeOptions} --import tsx -r ts-node/register`;

  it("keeps PnP's runtime, as Yarn puts it in NODE_OPTIONS, and nothing else", () => {
    const env = threadEnv(
      { NODE_OPTIONS: runnerNodeOptions, PATH: '/bin' },
      ['--require', '/home/me/bench-probe.cjs'],
      true,
      noRuntime,
    );
    expect(env).toEqual({ PATH: '/bin', NODE_OPTIONS: `--require ${yarn.runtime}` });
  });

  it("keeps PnP's ESM loader too when the thread will import a package (jose, for TESTWIRE_JWT_SECRET)", () => {
    const env = threadEnv({ NODE_OPTIONS: runnerNodeOptions, TESTWIRE_JWT_SECRET: 's' }, [], true, noRuntime);
    expect(env).toEqual({ TESTWIRE_JWT_SECRET: 's', NODE_OPTIONS: yarnNodeOptions });
  });

  it('quotes a project path with spaces the way Node reads NODE_OPTIONS', () => {
    const runtime = '/home/me/my "proj" ünï/.pnp.cjs';
    const loader = pathToFileURL('/home/me/my "proj" ünï/.pnp.loader.mjs').href;
    const nodeOptions = `--require "/home/me/my \\"proj\\" ünï/.pnp.cjs" --experimental-loader ${loader}`;
    expect(splitNodeOptions(nodeOptions)).toEqual(['--require', runtime, '--experimental-loader', loader]);
    const env = threadEnv(
      { NODE_OPTIONS: `${nodeOptions} --inspect`, TESTWIRE_JWT_SECRET: 's' },
      [],
      true,
      noRuntime,
    );
    expect(splitNodeOptions(env.NODE_OPTIONS ?? '')).toEqual([
      '--require',
      runtime,
      '--experimental-loader',
      loader,
    ]);
  });

  it('finds the runtime on the command line (node -r ./.pnp.cjs), or where pnpapi resolves', () => {
    expect(threadEnv({}, ['-r', './.pnp.cjs', '--inspect'], true, noRuntime).NODE_OPTIONS).toBe(
      `--require ${join(process.cwd(), '.pnp.cjs')}`,
    );
    expect(threadEnv({}, ['--require=/app/.pnp.cjs'], true, noRuntime).NODE_OPTIONS).toBe(
      '--require /app/.pnp.cjs',
    );
    // Set up by the runner itself (require('./.pnp.cjs').setup()): what `pnpapi` resolves to.
    expect(threadEnv({ NODE_OPTIONS: '--inspect' }, [], true, () => '/app/.pnp.cjs').NODE_OPTIONS).toBe(
      '--require /app/.pnp.cjs',
    );
    // No runtime to be found: no loader either (it reads through the runtime).
    expect(
      threadEnv(
        { NODE_OPTIONS: `--experimental-loader ${yarn.loader}`, TESTWIRE_JWT_SECRET: 's' },
        [],
        true,
        noRuntime,
      ),
    ).toEqual({ TESTWIRE_JWT_SECRET: 's' });
  });
});

describe("the reporter's thread started by a real child process", () => {
  let owner: Awaited<ReturnType<typeof startBroadcaster>>;
  let socket: WebSocket;
  let received: AnyEventEnvelope[] = [];
  const rootDir = mkdtempSync(join(tmpdir(), 'testwire-thread-start-'));
  writeFileSync(join(rootDir, 'package.json'), JSON.stringify({ name: 'thread-start-fixture' }));
  const dist = join(__dirname, '..', 'dist');

  beforeAll(async () => {
    owner = await startBroadcaster({ port: 0, host: '127.0.0.1', logger: { warn() {} } });
    ({ socket, received } = await subscribeAll(owner.wsUrl));
  });
  afterAll(async () => {
    socket?.close();
    await owner?.close({ timeoutMs: 1000 });
    rmSync(rootDir, { recursive: true, force: true });
  });

  async function runChild(
    script: string,
    env: Record<string, string | undefined> = process.env,
  ): Promise<{ code: unknown; stdout: string; stderr: string }> {
    // Killed if it outlives the test: a thread that holds the process (see thread.ts, `preloaded`) never exits.
    const child = spawn(process.execPath, ['-e', script], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env,
      timeout: 15_000,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    const code = await new Promise((resolve) => child.on('close', resolve));
    return { code, stdout, stderr };
  }

  /** The reporter's options, in the child's source. */
  const options = () =>
    `{ framework: 'mocha', rootDir: ${JSON.stringify(rootDir)}, url: ${JSON.stringify(owner.url)}, performanceIntervalMs: 0, env: {} }`;
  /** A run of `tests` results through `core`, then `out(...)` of what the child saw. */
  const run = (core: string, tests: number) => `
      ${core}.runStarted({ totalTests: ${tests} });
      for (let i = 0; i < ${tests}; i++) {
        ${core}.testStarted({ file: 'f.js', titlePath: ['test ' + i] });
        ${core}.testResult({ file: 'f.js', titlePath: ['test ' + i] }, { status: 'passed', rawStatus: 'passed', duration: 1 });
      }
      await ${core}.runCompleted({ success: true });
      out({ runId: ${core}.runId, threadId: ${core}.threadId ?? null, blocking: typeof ${core}.completeBeforeExit });
  `;
  const results = async (runId: string) =>
    (await completedRun(received, runId)).filter((e) => e.type === 'test.result').length;

  it.each([
    ['runtime', {}],
    ['runtime and loader (a thread that imports jose)', { TESTWIRE_JWT_SECRET: 'secret' }],
  ])(
    "under Yarn PnP (process.versions.pnp), runs PnP's %s on the thread, not the runner's other preloads",
    async (_what, extraEnv) => {
      // A stand-in for Yarn's .pnp.cjs (what sets process.versions.pnp), its loader, and an APM agent's preload,
      // all in NODE_OPTIONS as Yarn and such agents put them. Each says on stdout (file descriptor 1) on which
      // thread it ran, by id (the ESM loader's own hooks thread runs the process's preloads too); the runtime
      // also says what NODE_OPTIONS the thread got, and writes to the thread's stderr as it starts (as Node or a
      // runtime may, before the thread's file sends its output to file descriptor 2): that must reach the
      // process's stderr, and must not hold the process open.
      const dir = mkdtempSync(join(tmpdir(), 'testwire fake pnp '));
      try {
        const runtime = join(dir, '.pnp.cjs');
        writeFileSync(
          runtime,
          "const { threadId, isMainThread } = require('node:worker_threads');\n" +
            "process.versions.pnp = '3';\n" +
            "require('node:fs').writeSync(1, 'pnp:' + threadId + ' ' + JSON.stringify(process.env.NODE_OPTIONS) + '\\n');\n" +
            "if (!isMainThread) process.stderr.write('runtime on thread ' + threadId + '\\n');\n",
        );
        const loader = join(dir, '.pnp.loader.mjs');
        writeFileSync(loader, 'export async function resolve(s, c, next) { return next(s, c); }\n');
        const apm = join(dir, 'apm.cjs');
        writeFileSync(
          apm,
          "const { threadId } = require('node:worker_threads');\n" +
            "require('node:fs').writeSync(1, 'apm:' + threadId + '\\n');\n",
        );
        const loaderUrl = pathToFileURL(loader).href;
        const nodeOptions = `--require "${runtime}" --experimental-loader ${loaderUrl} --require "${apm}" --no-warnings`;
        const script = `
        const out = (o) => process.stdout.write('out:' + JSON.stringify(o) + '\\n');
        const { createReporterCore } = require(${JSON.stringify(join(dist, 'index.cjs'))});
        (async () => {
          const core = createReporterCore(${options()});
          ${run('core', 3)}
        })();
      `;
        const { code, stdout, stderr } = await runChild(script, {
          ...process.env,
          ...extraEnv,
          NODE_OPTIONS: nodeOptions,
        });
        expect(code, stderr).toBe(0);
        const seen = JSON.parse(/out:(.*)/.exec(stdout)?.[1] ?? '{}');
        expect(seen.threadId).toBeTypeOf('number');
        const kept = `--require "${runtime}"${'TESTWIRE_JWT_SECRET' in extraEnv ? ` --experimental-loader ${loaderUrl}` : ''}`;
        expect(stdout).toContain(`pnp:${seen.threadId} ${JSON.stringify(kept)}\n`);
        expect(stderr).toContain(`runtime on thread ${seen.threadId}\n`);
        expect(stdout).toContain('apm:0\n');
        expect(stdout).not.toContain(`apm:${seen.threadId}\n`);
        expect(await results(seen.runId)).toBe(3);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );

  describe('a thread that cannot load its file', () => {
    // The build as installed, but with a worker file that fails to load, as it did under Yarn PnP (its zip
    // archive unreadable on the thread): "Cannot find module …".
    const broken = mkdtempSync(join(tmpdir(), 'testwire-broken-worker-'));
    beforeAll(() => {
      cpSync(dist, join(broken, 'dist'), { recursive: true });
      writeFileSync(join(broken, 'dist', 'core-worker.cjs'), "require('./not-in-the-archive.cjs');\n");
      // The package's dependencies, as beside the installed package.
      symlinkSync(join(__dirname, '..', 'node_modules'), join(broken, 'node_modules'), 'dir');
    });
    afterAll(() => rmSync(broken, { recursive: true, force: true }));

    const child = (steps: string) =>
      runChild(`
        const out = (o) => process.stdout.write('out:' + JSON.stringify(o) + '\\n');
        const { createReporterCore, startReporterThreadAhead } = require(${JSON.stringify(join(broken, 'dist', 'index.cjs'))});
        const options = ${options()};
        const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
        (async () => { ${steps} })();
      `);
    const outs = (stdout: string) =>
      [...stdout.matchAll(/out:(.*)/g)].map(
        (m) => JSON.parse(m[1] as string) as { runId: string; threadId: number | null; blocking: string },
      );
    const warnings = (stderr: string) => stderr.split('\n').filter((line) => line.startsWith('testwire:'));

    it('applies the calls on the runner’s thread instead, those made before the failure too, with one warning', async () => {
      // The calls come at once, before the thread's failure is known: kept, then applied here.
      const { code, stdout, stderr } = await child(`
        const core = createReporterCore(options);
        ${run('core', 5)}
      `);
      expect(code, stderr).toBe(0);
      const [seen] = outs(stdout);
      expect(await results(seen?.runId ?? '')).toBe(5);
      // Now in-thread: no thread id, and no completeBeforeExit (an in-thread core cannot flush while blocked).
      expect(seen).toMatchObject({ threadId: null, blocking: 'undefined' });
      const said = warnings(stderr);
      expect(said).toHaveLength(1);
      expect(said[0]).toMatch(
        /^testwire: the reporter's thread could not start \(Cannot find module .*not-in-the-archive\.cjs.*\); its work runs on the runner's thread instead, as with TESTWIRE_THREAD=off$/,
      );
    });

    it('a thread started ahead that failed before the reporter: the reporters run in-thread from the start, one warning', async () => {
      // mocha: the thread starts when @testwire/mocha loads; a watch-mode rerun makes a second reporter.
      const { code, stdout, stderr } = await child(`
        startReporterThreadAhead({});
        await sleep(1000);
        const first = createReporterCore(options);
        ${run('first', 2)}
        const second = createReporterCore(options);
        ${run('second', 2)}
      `);
      expect(code, stderr).toBe(0);
      const seen = outs(stdout);
      expect(seen).toHaveLength(2);
      for (const run of seen) {
        expect(run.threadId).toBeNull();
        expect(await results(run.runId)).toBe(2);
      }
      expect(warnings(stderr)).toHaveLength(1);
      expect(stderr).not.toContain('streams no more events');
    });
  });
});
