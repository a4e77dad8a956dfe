import { type ParseArgsConfig, parseArgs } from 'node:util';
import { type Endpoint, resolveEndpoint } from './endpoint.js';
import { CliError, ExitCode } from './errors.js';

/** Where a command writes and what environment it reads (injectable for tests). */
export interface Io {
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
  env: NodeJS.ProcessEnv;
}

type Options = NonNullable<ParseArgsConfig['options']>;

/** Flags every client command (tail, watch, status) takes to find the endpoint. */
export const endpointOptions = {
  url: { type: 'string' },
  port: { type: 'string', short: 'p' },
  host: { type: 'string' },
  'api-key': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies Options;

export const endpointHelp = `Endpoint:
  --url <url>        testwire endpoint (default: $TESTWIRE_URL, else http://$TESTWIRE_HOST:$TESTWIRE_PORT,
                     else http://127.0.0.1:7357); ws://host:port/ws works too
  -p, --port <n>     shorthand for --url http://127.0.0.1:<n>
  --host <host>      with --port, the host (default 127.0.0.1)
  --api-key <key>    API key when the endpoint requires one (default: $TESTWIRE_API_KEY; prefer the variable:
                     a key on the command line is shown by ps to every user of the machine)`;

/** node:util parseArgs with its errors turned into a one-line usage error naming the command. */
export function parseCommand<T extends Options>(
  command: string,
  argv: string[],
  options: T,
): ReturnType<typeof parseArgs<{ args: string[]; options: T; allowPositionals: false; strict: true }>> {
  try {
    return parseArgs({ args: argv, options, allowPositionals: false, strict: true });
  } catch (error) {
    const message = (error as Error).message.replace(/\. To specify a positional argument.*$/s, '');
    throw new CliError(
      `${command}: ${message} (see \`testwire ${command} --help\`)`,
      'USAGE',
      ExitCode.USAGE,
    );
  }
}

export function endpointFrom(
  values: { url?: string; port?: string; host?: string; 'api-key'?: string },
  io: Io,
): Endpoint {
  return resolveEndpoint(
    { url: values.url, port: values.port, host: values.host, apiKey: values['api-key'] },
    io.env,
  );
}

/** Parses a non-negative integer flag. */
export function parseCount(value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n)) {
    throw new CliError(
      `${flag}: expected a whole number, got ${JSON.stringify(value)}`,
      'USAGE',
      ExitCode.USAGE,
    );
  }
  return n;
}

/** `a,b , c` -> ['a','b','c'] over every occurrence of a repeatable flag. */
export const splitList = (values: string | string[] | undefined): string[] =>
  (Array.isArray(values) ? values : values === undefined ? [] : [values])
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter(Boolean);
