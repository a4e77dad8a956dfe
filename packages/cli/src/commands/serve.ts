import type { Broadcaster } from '@testwire/broadcaster';
import { DEFAULT_HOST, DEFAULT_PORT } from '@testwire/protocol';
import { type Io, parseCommand } from '../args.js';
import { parsePort } from '../endpoint.js';
import { CliError, ExitCode } from '../errors.js';
import { untilSignal } from '../until-signal.js';
import { serveRedis } from './serve-redis.js';

export const serveHelp = `Usage: testwire serve [options]

Runs a testwire broadcaster on its own, as a long-lived endpoint. Test runs with a testwire reporter
join it as publishers (same port, or TESTWIRE_URL); dashboards, \`testwire watch\` and \`tail\` subscribe.
Stops gracefully on Ctrl-C / SIGTERM.

Options:
  -p, --port <n>     port to bind (default: $TESTWIRE_PORT or 7357; 0 = any free port)
  --host <host>      interface to bind (default: $TESTWIRE_HOST or 127.0.0.1)
  --api-key <key>    require this API key from every client (default: $TESTWIRE_API_KEY). Prefer the
                     variable: a key on the command line is shown to every user of the machine by \`ps\`

Sharded CI (the shards of one CI run on many machines, merged into one live view):
  --redis <url>      read the group's Redis stream instead of taking publishers (default: $TESTWIRE_REDIS_URL;
                     redis://[user:pass@]host:port[/db], rediss://… for TLS, unix:///path/redis.sock)
  --group <id>       the CI run group (default: $TESTWIRE_GROUP, else this CI run's id)
  --silence <ms>     a running shard that sent nothing this long shows as silent (default 30000)
  --lost-after <ms>  a running shard silent this long is lost: the group stops waiting for it and fails
                     (default 600000; 0 = never)
  --expect <n>       shards expected, when the runners do not say (no --shard, no TESTWIRE_SHARD); expected
                     shards never heard of are lost --lost-after ms after the group started (or, with no
                     shard at all, after serve began waiting for it)
  --until-done       exit when the group completed: 0 if every shard passed, 1 otherwise (a CI job's verdict)
  -h, --help         show this help

Without an API key every local user can read every event (the endpoint binds loopback and checks
Host and Origin, which keeps out other machines and web pages, not other users): set TESTWIRE_API_KEY
to a long random key (openssl rand -hex 16) where others share the machine.

Prints "testwire serve: listening at <url>" once bound.`;

export async function serve(argv: string[], io: Io): Promise<number> {
  const { values } = parseCommand('serve', argv, {
    port: { type: 'string', short: 'p' },
    host: { type: 'string' },
    'api-key': { type: 'string' },
    redis: { type: 'string' },
    group: { type: 'string' },
    silence: { type: 'string' },
    'lost-after': { type: 'string' },
    expect: { type: 'string' },
    'until-done': { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    io.stdout.write(`${serveHelp}\n`);
    return ExitCode.OK;
  }
  const port = parsePort(
    values.port ?? (io.env.TESTWIRE_PORT || String(DEFAULT_PORT)),
    values.port ? '--port' : 'TESTWIRE_PORT',
  );
  const host = values.host ?? (io.env.TESTWIRE_HOST || DEFAULT_HOST);
  const apiKey = values['api-key'] ?? (io.env.TESTWIRE_API_KEY || undefined);
  const redisUrl = values.redis ?? (io.env.TESTWIRE_REDIS_URL || undefined);
  if (redisUrl) return serveRedis({ ...values, redisUrl, port, host, apiKey }, io);
  for (const only of ['group', 'silence', 'lost-after', 'expect', 'until-done'] as const)
    if (values[only] !== undefined)
      throw new CliError(`--${only} needs --redis <url> (or TESTWIRE_REDIS_URL)`, 'USAGE', ExitCode.USAGE);

  // Loaded on demand: the client commands start faster without the server.
  const { startBroadcaster } = await import('@testwire/broadcaster');
  let broadcaster: Broadcaster;
  try {
    broadcaster = await startBroadcaster({
      port,
      host,
      ...(apiKey ? { apiKey } : {}),
      logger: {
        warn: (message: string) => io.stderr.write(`testwire serve: ${message}\n`),
        info: (message: string) => io.stderr.write(`testwire serve: ${message}\n`),
      },
    });
  } catch (error) {
    const err = error as NodeJS.ErrnoException;
    if (err.code === 'EADDRINUSE') {
      throw new CliError(
        `port ${port} on ${host} is already in use (another testwire — a test run, a serve, a watch or tail --wait hosting it? try \`testwire status --port ${port}\`, or pick one with --port)`,
        'PORT_IN_USE',
        ExitCode.CONNECTION,
      );
    }
    if (err.code === 'EACCES' || err.code === 'EADDRNOTAVAIL') {
      throw new CliError(`cannot bind ${host}:${port} (${err.code})`, err.code, ExitCode.CONNECTION);
    }
    throw error;
  }

  io.stdout.write(`testwire serve: listening at ${broadcaster.url}\n`);
  io.stdout.write(
    `  WebSocket ${broadcaster.wsUrl}  ·  SSE ${broadcaster.url}/events  ·  status ${broadcaster.url}/status\n`,
  );
  io.stdout.write(
    `  reporters join it with TESTWIRE_URL=${broadcaster.url}${port === DEFAULT_PORT ? ' (or by default)' : ''}; Ctrl-C stops\n`,
  );

  return await untilSignal(io, () => broadcaster.close({ timeoutMs: 3000 }));
}
