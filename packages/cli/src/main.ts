import { version } from '../package.json';
import type { Io } from './args.js';
import { baseline, baselineHelp } from './commands/baseline.js';
import { detect, detectHelp } from './commands/detect.js';
import { serve, serveHelp } from './commands/serve.js';
import { status, statusHelp } from './commands/status.js';
import { tail, tailHelp } from './commands/tail.js';
import { watch, watchHelp } from './commands/watch.js';
import { CliError, ExitCode } from './errors.js';

export const VERSION: string = version;

export const mainHelp = `Usage: testwire <command> [options]

Live test events from Jest, Vitest, Playwright and Mocha, over WebSocket and SSE.

Commands:
  serve     run a standalone broadcaster that test runs join (default port 7357)
  watch     live terminal monitor of every run: progress, failures, slow tests, memory
  tail      print events as they happen (readable or --json NDJSON); --until, --exit-status
  status    show the /status of an endpoint
  baseline  save, compare, list and show test baselines (.test-baselines/<label>.json)
  detect    print the test frameworks of this directory's project (what framework.detected says)

Options:
  -h, --help       show help (\`testwire <command> --help\` for a command)
  -v, --version    print the version

Environment: TESTWIRE_URL, TESTWIRE_HOST, TESTWIRE_PORT, TESTWIRE_API_KEY, NO_COLOR, FORCE_COLOR.`;

const COMMANDS: Record<string, { run(argv: string[], io: Io): Promise<number>; help: string }> = {
  serve: { run: serve, help: serveHelp },
  watch: { run: watch, help: watchHelp },
  tail: { run: tail, help: tailHelp },
  status: { run: status, help: statusHelp },
  baseline: { run: baseline, help: baselineHelp },
  detect: { run: detect, help: detectHelp },
};

/**
 * Runs the CLI with `argv` (without node and script) and returns the exit code. User errors
 * (CliError) are printed as one line `testwire: …` on stderr; anything else is a bug and prints its stack.
 */
export async function main(
  argv: string[],
  io: Io = { stdout: process.stdout, stderr: process.stderr, env: process.env },
): Promise<number> {
  const [name, ...rest] = argv;
  try {
    if (name === undefined || name === '-h' || name === '--help' || name === 'help') {
      const topic = name === 'help' ? rest[0] : undefined;
      if (topic && COMMANDS[topic]) io.stdout.write(`${COMMANDS[topic].help}\n`);
      else io.stdout.write(`${mainHelp}\n`);
      return name === undefined ? ExitCode.USAGE : ExitCode.OK;
    }
    if (name === '-v' || name === '--version' || name === 'version') {
      io.stdout.write(`${VERSION}\n`);
      return ExitCode.OK;
    }
    const command = COMMANDS[name];
    if (!command) {
      throw new CliError(
        `unknown command ${JSON.stringify(name)}; commands: ${Object.keys(COMMANDS).join(', ')} (see \`testwire --help\`)`,
        'USAGE',
        ExitCode.USAGE,
      );
    }
    return await command.run(rest, io);
  } catch (error) {
    if (error instanceof CliError) {
      io.stderr.write(`testwire: ${error.message}\n`);
      return error.exitCode;
    }
    io.stderr.write(
      `testwire: unexpected error (please report it): ${(error as Error)?.stack ?? String(error)}\n`,
    );
    return ExitCode.FAILURE;
  }
}
