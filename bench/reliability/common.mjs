// Shared by the issue-14 broadcaster benches in this folder: flags, the machine's state, JSON output.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const fixtures = join(root, 'packages', 'broadcaster', 'test', 'fixtures');

/** `--name=value` flags (numbers when numeric), `--flag` as true. */
export function flags(argv = process.argv.slice(2)) {
  const out = {};
  for (const arg of argv) {
    const m = /^--([^=]+)(?:=(.*))?$/.exec(arg);
    if (!m) continue;
    const value = m[2] ?? true;
    out[m[1]] =
      typeof value === 'string' && value !== '' && !Number.isNaN(Number(value)) ? Number(value) : value;
  }
  return out;
}

/** Writes `bench/results/<name>-<date>.json` (or `--json=<path>`) with the machine's state; returns the path. */
export function writeResult(name, result, path) {
  const stamp = new Date().toISOString().slice(0, 16).replace(/[-:]/g, '').replace('T', 'T');
  const file = path ?? join(root, 'bench', 'results', `${name}-${stamp}.json`);
  mkdirSync(dirname(file), { recursive: true });
  const body = {
    bench: name,
    date: new Date().toISOString(),
    node: process.version,
    cores: cpus().length,
    loadavg: loadavg(),
    ...result,
  };
  writeFileSync(file, `${JSON.stringify(body, null, 2)}\n`);
  return file;
}

export const mb = (bytes) => Math.round((bytes / 1024 / 1024) * 10) / 10;
export const ms = (n) => Math.round(n * 10) / 10;
