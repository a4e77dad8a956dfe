#!/usr/bin/env node
// The `testwire` command. A file of its own, not dist/cli.js itself, so that package managers can link
// the command in a fresh clone of the repository before anything is built (pnpm skips a bin whose file
// is missing, and `npx testwire` would then ask the public registry); unbuilt, it says what to run.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = new URL('../dist/cli.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write(
    `testwire: the CLI is not built (${fileURLToPath(entry)} is missing): run \`pnpm build\` (or \`pnpm demo\`) at the repository root\n`,
  );
  process.exit(1);
}
await import(entry.href);
