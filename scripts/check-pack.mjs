#!/usr/bin/env node
/**
 * Packs every published package as `pnpm publish` would (`pnpm pack`) and checks what a user would install:
 * no `workspace:` range left in its dependencies, every file its `main`, `module`, `types`, `bin` and
 * `exports` name is in the tarball, and so is the LICENSE whose terms its `license` field names (the MIT
 * license asks that its text go with every copy). Run by `pnpm test` after the build; exits 1 with what is
 * wrong.
 *
 *   node scripts/check-pack.mjs
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
/** Every package ships the repository's license text as it is (each package.json says MIT). */
const license = readFileSync(join(root, 'LICENSE'), 'utf8');
const out = mkdtempSync(join(tmpdir(), 'testwire-pack-'));
const problems = [];
let packed = 0;
try {
  for (const name of readdirSync(join(root, 'packages')).sort()) {
    const dir = join(root, 'packages', name);
    const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    if (manifest.private) continue;
    const where = mkdtempSync(join(out, `${name}-`));
    try {
      execFileSync('pnpm', ['pack', '--pack-destination', where], { cwd: dir, stdio: 'pipe' });
    } catch (error) {
      problems.push(
        `${manifest.name}: pnpm pack failed: ${String(error.stdout || '').trim() || String(error.stderr || error.message).trim()}`,
      );
      continue;
    }
    const tarball = join(where, readdirSync(where)[0]);
    const files = new Set(
      execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' })
        .split('\n')
        .filter(Boolean)
        .map((path) => path.replace(/^package\//, '')),
    );
    const packedManifest = JSON.parse(
      execFileSync('tar', ['-xzOf', tarball, 'package/package.json'], { encoding: 'utf8' }),
    );
    for (const field of ['dependencies', 'peerDependencies', 'optionalDependencies'])
      for (const [dep, range] of Object.entries(packedManifest[field] ?? {}))
        if (String(range).startsWith('workspace:'))
          problems.push(`${manifest.name}: ${field}.${dep} is still "${range}"`);
    for (const [where, target] of targets(packedManifest))
      if (!files.has(target.replace(/^\.\//, '')))
        problems.push(`${manifest.name}: ${where} names ${target}, which is not in the tarball`);
    if (!files.has('LICENSE'))
      problems.push(
        `${manifest.name}: no LICENSE in the tarball (its license is ${manifest.license ?? 'not set'})`,
      );
    else if (execFileSync('tar', ['-xzOf', tarball, 'package/LICENSE'], { encoding: 'utf8' }) !== license)
      problems.push(`${manifest.name}: its LICENSE is not the repository's (${join(root, 'LICENSE')})`);
    packed++;
  }
} finally {
  rmSync(out, { recursive: true, force: true });
}

if (problems.length > 0) {
  process.stderr.write(
    `check-pack: ${problems.length} problem(s)\n${problems.map((p) => `  ${p}\n`).join('')}`,
  );
  process.exit(1);
}
process.stdout.write(
  `check-pack: ${packed} packages pack with every file they name, their LICENSE and no workspace: range\n`,
);

/** [field, file] for every file the manifest names (wildcard export patterns are left out). */
function* targets(manifest) {
  for (const field of ['main', 'module', 'types'])
    if (typeof manifest[field] === 'string') yield [field, manifest[field]];
  const bin = typeof manifest.bin === 'string' ? { [manifest.name]: manifest.bin } : (manifest.bin ?? {});
  for (const [command, file] of Object.entries(bin)) yield [`bin.${command}`, file];
  yield* exportTargets('exports', manifest.exports);
}

function* exportTargets(path, value) {
  if (typeof value === 'string') {
    if (!value.includes('*')) yield [path, value];
  } else if (value && typeof value === 'object')
    for (const [key, inner] of Object.entries(value)) yield* exportTargets(`${path}["${key}"]`, inner);
}
