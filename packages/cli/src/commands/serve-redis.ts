/** `testwire serve --redis <url> [--group <id>]`: one CI run group's shards, merged, as one endpoint. */
import type { Io } from '../args.js';
import { CliError, ExitCode } from '../errors.js';
import { untilSignal } from '../until-signal.js';

export interface ServeRedisOptions {
  redisUrl: string;
  port: number;
  host: string;
  apiKey: string | undefined;
  group?: string | undefined;
  silence?: string | undefined;
  'lost-after'?: string | undefined;
  expect?: string | undefined;
  'until-done'?: boolean | undefined;
}

function positiveInt(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1)
    throw new CliError(
      `${flag} must be a positive integer, got ${JSON.stringify(text)}`,
      'USAGE',
      ExitCode.USAGE,
    );
  return n;
}

export async function serveRedis(options: ServeRedisOptions, io: Io): Promise<number> {
  // Loaded on demand: only `serve --redis` needs a Redis client.
  const redis = await import('@testwire/redis');
  try {
    redis.checkRedisUrl(options.redisUrl);
  } catch (error) {
    throw new CliError(`--redis: ${(error as Error).message}`, 'USAGE', ExitCode.USAGE);
  }
  const silenceMs = positiveInt(options.silence, '--silence');
  const lostAfter = options['lost-after'];
  const lostAfterMs = lostAfter === '0' ? 0 : positiveInt(lostAfter, '--lost-after');
  const expected = positiveInt(options.expect, '--expect');
  const rawGroup = options.group ?? io.env.TESTWIRE_GROUP;
  let group: string | undefined;
  try {
    group = rawGroup ? redis.groupId(rawGroup) : redis.ciGroup(io.env)?.id;
  } catch (error) {
    throw new CliError(`--group: ${(error as Error).message}`, 'USAGE', ExitCode.USAGE);
  }
  if (!group)
    throw new CliError(
      'no CI run group: pass --group <id> (the TESTWIRE_GROUP the shards use), or run inside the CI run',
      'USAGE',
      ExitCode.USAGE,
    );
  const log = (message: string) =>
    io.stderr.write(`${message.startsWith('testwire') ? '' : 'testwire serve: '}${message}\n`);
  io.stderr.write(`testwire serve: reading group ${group} from Redis ${redis.redactUrl(options.redisUrl)}\n`);
  let server: Awaited<ReturnType<typeof redis.serveGroup>>;
  try {
    server = await redis.serveGroup({
      redisUrl: options.redisUrl,
      group,
      port: options.port,
      host: options.host,
      ...(options.apiKey ? { apiKey: options.apiKey } : {}),
      ...(silenceMs !== undefined ? { silenceMs } : {}),
      ...(lostAfterMs !== undefined ? { lostAfterMs } : {}),
      ...(expected !== undefined ? { expected } : {}),
      logger: { warn: log, info: log },
    });
  } catch (error) {
    const err = error as NodeJS.ErrnoException;
    if (err.code === 'EADDRINUSE')
      throw new CliError(
        `port ${options.port} on ${options.host} is already in use (pick one with --port)`,
        'PORT_IN_USE',
        ExitCode.CONNECTION,
      );
    throw new CliError(
      `cannot serve the group: ${redis.redactUrl(options.redisUrl)}: ${err.message}`,
      'CONNECTION',
      ExitCode.CONNECTION,
    );
  }
  // Bound at once, Redis or not: the group's events (and its epoch, kept in Redis) come once Redis answers,
  // which serveGroup says on stderr (and meanwhile, that it does not, with /status source.redis).
  io.stdout.write(`testwire serve: listening at ${server.url}\n`);
  io.stdout.write(
    `  group ${group}  ·  WebSocket ${server.wsUrl}  ·  SSE ${server.url}/events  ·  status ${server.url}/status\n`,
  );
  if (!options['until-done']) return untilSignal(io, () => server.close());
  // A CI job of its own: the group's verdict (every shard) as this process's exit code.
  const keepAlive = setInterval(() => {}, 1 << 30);
  // Refused for good (credentials, ACL rights): a CI job fails now, saying what to check, rather than wait
  // for its timeout. (A serve without --until-done goes on retrying: its operator may fix Redis meanwhile.)
  const outcome = await Promise.race([server.done, server.refused]);
  clearInterval(keepAlive);
  if ('fix' in outcome) {
    await server.close();
    throw new CliError(
      `Redis ${redis.redactUrl(options.redisUrl)} refuses this serve: ${outcome.error} (${outcome.fix})`,
      'CONNECTION',
      ExitCode.CONNECTION,
    );
  }
  const { success } = outcome;
  io.stdout.write(`testwire serve: group ${group} completed: ${success ? 'passed' : 'failed'}\n`);
  await server.close();
  return success ? ExitCode.OK : ExitCode.FAILURE;
}
