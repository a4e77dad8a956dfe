/**
 * Real processes for the sharded-CI tests: a redis-server of the test's own (free port and unix socket, own
 * data dir, AOF so a stop and start keeps the stream), `testwire serve --redis`, shards — each in its own
 * process group, and as root in a network + UTS namespace of its own (hosts.ts) — and a WebSocket subscriber
 * that resumes after a disconnect exactly as a client should.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { onHost } from './hosts.js';

const here = dirname(fileURLToPath(import.meta.url));
export const PACKAGE_DIR = resolve(here, '..');
export const REPO_ROOT = resolve(PACKAGE_DIR, '../..');
export const CLI = join(REPO_ROOT, 'packages/cli/dist/cli.js');
const VITEST = join(PACKAGE_DIR, 'node_modules/.bin/vitest');

export { freePort, RedisServer, until } from '../../../packages/redis/test/redis-server.js';

import { until } from '../../../packages/redis/test/redis-server.js';

/** A child in its own process group, its output collected. */
export class Proc {
  stdout = '';
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  constructor(readonly child: ChildProcess) {
    child.stdout?.on('data', (c) => (this.stdout += c));
    child.stderr?.on('data', (c) => (this.stderr += c));
    this.exited = new Promise((r) => child.on('close', (code, signal) => r({ code, signal })));
  }
  /** Signals the whole process group (the runner and its workers). */
  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    try {
      process.kill(-(this.child.pid as number), signal);
    } catch {
      // already gone
    }
  }
}

/** `host`: run it as that host (its own network + UTS namespace where the tests can make one). */
export function start(
  command: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; host?: string } = {},
): Proc {
  const [file, argv] = options.host ? onHost(options.host, command, args) : [command, args];
  return new Proc(
    spawn(file, argv, {
      cwd: options.cwd ?? PACKAGE_DIR,
      env: { ...cleanEnv(), ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    }),
  );
}

/** The environment without what would change where events go (the CI's own group, another endpoint). */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', FORCE_COLOR: '' };
  for (const key of Object.keys(env))
    if (
      key.startsWith('TESTWIRE_') ||
      [
        'GITHUB_ACTIONS',
        'GITLAB_CI',
        'BUILDKITE',
        'CIRCLECI',
        'VITEST',
        'VITEST_WORKER_ID',
        'VITEST_POOL_ID',
        'NODE_OPTIONS',
      ].includes(key)
    )
      delete env[key];
  env.TESTWIRE_PORT = '0';
  return env;
}

/** `testwire serve --redis …` until it prints its URL. */
export async function startServe(
  redisUrl: string,
  group: string,
  port: number,
  extra: string[] = [],
): Promise<Proc & { url: string }> {
  const proc = start(process.execPath, [
    CLI,
    'serve',
    '--redis',
    redisUrl,
    '--group',
    group,
    '--port',
    String(port),
    ...extra,
  ]);
  const url = await until(
    'serve to listen',
    () => /listening at (http:\/\/\S+)/.exec(proc.stdout)?.[1],
    30_000,
  );
  return Object.assign(proc, { url });
}

/** A copy of the fixture under work/ (where @testwire/vitest resolves from this package). */
export function fixtureCopy(name: string): string {
  const dir = join(PACKAGE_DIR, 'work', `${name}-${process.pid}-${Date.now().toString(36)}`);
  mkdirSync(dir, { recursive: true });
  cpSync(join(PACKAGE_DIR, 'fixtures', name), dir, { recursive: true });
  return dir;
}

export interface JsonTest {
  file: string;
  titlePath: string[];
  status: string;
}

/** `vitest run` of the fixture copy: with `shard` `k/N`, with `env` (the testwire reporter when given a Redis URL), as `host`. */
export function runVitest(
  dir: string,
  report: string,
  options: { shard?: string; env?: NodeJS.ProcessEnv; testwire?: boolean; host?: string },
): Proc {
  const args = ['run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`];
  if (options.shard) args.push(`--shard=${options.shard}`);
  if (options.testwire) args.push('--reporter=@testwire/vitest');
  return start(VITEST, args, {
    cwd: dir,
    ...(options.env ? { env: options.env } : {}),
    ...(options.host ? { host: options.host } : {}),
  });
}

/**
 * What `node` sees connecting to 127.0.0.1:`port` as `host`: 'open', or the error code (ECONNREFUSED inside a
 * namespace of its own, whose loopback is not the host's).
 */
export async function loopbackFrom(host: string | undefined, port: number): Promise<string> {
  const script = `require('node:net').connect(${port}, '127.0.0.1').on('connect', () => { console.log('open'); process.exit(0); }).on('error', (e) => { console.log(e.code); process.exit(0); });`;
  const proc = start(process.execPath, ['-e', script], host ? { host } : {});
  await proc.exited;
  return proc.stdout.trim();
}

/** The tests of a vitest JSON report, files relative to `dir`. */
export function readReport(report: string, dir: string): JsonTest[] {
  if (!existsSync(report)) throw new Error(`no report at ${report}`);
  const json = JSON.parse(readFileSync(report, 'utf8')) as {
    testResults: {
      name: string;
      assertionResults: { ancestorTitles: string[]; title: string; status: string }[];
    }[];
  };
  return json.testResults.flatMap((file) =>
    file.assertionResults.map((a) => ({
      file: file.name.slice(dir.length + 1),
      titlePath: [...a.ancestorTitles, a.title],
      status: a.status,
    })),
  );
}

export interface Envelope {
  type: string;
  seq: number;
  runId: string;
  timestamp: string;
  data: Record<string, any>;
}

/**
 * A subscriber of every event that, when its connection drops, reconnects and resumes from the last seq it
 * got (subscribe with `resume`, as a client should), recording how each resume was answered.
 */
export class Subscriber {
  readonly events: Envelope[] = [];
  readonly answers: { type: string; reason?: string }[] = [];
  epoch?: string;
  private ws?: WebSocket;
  private closed = false;
  connections = 0;

  /** `from`: resume from this position on the first connection too (a subscriber moving to another serve). */
  constructor(
    private readonly wsUrl: string,
    private readonly from?: { epoch: string; since: number },
  ) {
    this.epoch = from?.epoch;
  }

  get lastSeq(): number {
    return this.events.at(-1)?.seq ?? this.from?.since ?? 0;
  }

  connect(): void {
    if (this.closed) return;
    const ws = new WebSocket(this.wsUrl);
    this.ws = ws;
    ws.on('message', (raw) => {
      const msg = JSON.parse(String(raw));
      if (msg.type === 'connection.established') {
        this.connections++;
        const resume = this.epoch ? { resume: { epoch: this.epoch, since: this.lastSeq } } : {};
        this.epoch ??= msg.epoch;
        ws.send(JSON.stringify({ type: 'subscribe', events: ['*'], ...resume }));
      } else if (['resumed', 'resume.failed', 'snapshot'].includes(msg.type)) {
        this.answers.push({ type: msg.type, reason: msg.reason });
      } else if (typeof msg.seq === 'number' && msg.seq > 0) {
        this.events.push(msg);
      }
    });
    ws.on('error', () => {});
    ws.on('close', () => {
      if (this.closed) return;
      setTimeout(() => this.connect(), 200);
    });
  }

  close(): void {
    this.closed = true;
    this.ws?.terminate();
  }
}

export async function status(url: string): Promise<any> {
  const res = await fetch(`${url}/status`);
  return res.json();
}
