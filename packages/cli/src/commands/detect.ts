import { resolve } from 'node:path';
import type { FrameworkDetectedData } from '@testwire/protocol';
import { detectFrameworks } from '@testwire/reporter-core';
import { type Io, parseCommand } from '../args.js';
import { ExitCode } from '../errors.js';

export const detectHelp = `Usage: testwire detect [options]

Prints what framework.detected would say for this directory: the test frameworks of its project (from
package.json dependencies and config files) with version, config file and test patterns. \`active\` is
set when there is exactly one (a reporter sets it to its own runner). Exits 1 when none is found.

Options:
  --dir <path>       the directory to look at (default: the current directory)
  --json             print the event's data as JSON
  -h, --help         show this help`;

/** framework.detected's data for `dir`, as a reporter in that directory would send it (but `active`). */
export function detectedData(dir: string): FrameworkDetectedData {
  const frameworks = detectFrameworks(dir);
  return { frameworks, ...(frameworks.length === 1 ? { active: frameworks[0].name } : {}) };
}

export async function detect(argv: string[], io: Io): Promise<number> {
  const { values } = parseCommand('detect', argv, {
    dir: { type: 'string' },
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    io.stdout.write(`${detectHelp}\n`);
    return ExitCode.OK;
  }
  const dir = resolve(values.dir ?? process.cwd());
  const data = detectedData(dir);
  if (values.json) {
    io.stdout.write(`${JSON.stringify(data, null, 2)}\n`);
  } else if (data.frameworks.length === 0) {
    io.stdout.write(`no test framework found in ${dir} (looked for jest, vitest, playwright, mocha)\n`);
  } else {
    for (const framework of data.frameworks) {
      const active = framework.name === data.active ? ' (active)' : '';
      io.stdout.write(`${framework.name} ${framework.version ?? '(version unknown)'}${active}\n`);
      io.stdout.write(`  config:   ${framework.configPath ?? '(none found: defaults)'}\n`);
      io.stdout.write(`  patterns: ${(framework.testPatterns ?? []).join(', ')}\n`);
    }
  }
  return data.frameworks.length > 0 ? ExitCode.OK : ExitCode.FAILURE;
}
