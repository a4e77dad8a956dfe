/**
 * The two reporter builds the cost bench compares: "current" (this working tree's packages/*\/dist, as
 * `pnpm build` left them, copied at the start of the bench) and "old" (a frozen build of a git ref, by
 * default the one in old-ref.json), made once in a git worktree outside the repository and reused later:
 *
 *   <tmpdir>/testwire-bench-old/<sha>/   git worktree add --detach <sha>
 *     pnpm install --offline --frozen-lockfile     (the ref's own lockfile, from the local store)
 *     pnpm --filter <the 7 packages below> run build   (topological order)
 *     .bench-built                          marker: written last, so a half-made build is redone
 *
 * A runner config points at a build's adapter entry (packages/<runner>/dist/index.cjs) by absolute path; the
 * adapter resolves reporter-core, broadcaster and protocol from its own tree's node_modules, so each build
 * runs only its own code.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const repoRoot = join(here, '..', '..');
export const OLD_REF_FILE = join(here, 'old-ref.json');

/** What the four adapters need at run time, in build order. */
const PACKAGES = ['protocol', 'broadcaster', 'reporter-core', 'jest', 'vitest', 'playwright', 'mocha'];
const RUNNER_PACKAGES = ['jest', 'vitest', 'playwright', 'mocha'];

/** The ref of the old build: `--old-ref` if given, else old-ref.json's. */
export function oldRef(override) {
  if (typeof override === 'string') return override;
  return JSON.parse(readFileSync(OLD_REF_FILE, 'utf8')).ref;
}

function describe(root, label, ref) {
  const entries = Object.fromEntries(
    RUNNER_PACKAGES.map((name) => [name, join(root, 'packages', name, 'dist', 'index.cjs')]),
  );
  const missing = [...Object.values(entries), join(root, 'packages', 'reporter-core', 'dist', 'index.cjs')]
    .filter((file) => !existsSync(file))
    .map((file) => file.slice(root.length + 1));
  return {
    label,
    ref,
    root,
    entries,
    missing,
    /** Content hash of the packages' dist folders: a rebuild during the bench changes it. */
    fingerprint: () => fingerprint(root),
  };
}

/**
 * The working tree's build (what `pnpm build` made), copied to `<tmpdir>/testwire-bench-current/<pid>/` so
 * that a rebuild by someone else during the bench cannot change it half-way (the copy is taken when the
 * fingerprint is the same before and after copying). `missing` lists entries not built; `remove()` deletes
 * the copy.
 */
export function currentBuild() {
  let head = 'unknown';
  try {
    head = git(repoRoot, ['rev-parse', '--short', 'HEAD']);
  } catch {}
  const ref = `working tree (HEAD ${head} + uncommitted changes), copied at ${new Date().toISOString()}`;
  const live = describe(repoRoot, 'current', ref);
  if (live.missing.length > 0) return live;
  const dest = join(os.tmpdir(), 'testwire-bench-current', String(process.pid));
  for (let attempt = 0; attempt < 10; attempt++) {
    const before = fingerprint(repoRoot);
    rmSync(dest, { recursive: true, force: true });
    copyPackages(repoRoot, dest);
    if (fingerprint(repoRoot) === before && fingerprint(dest) === before) {
      const copy = describe(dest, 'current', ref);
      return {
        ...copy,
        fingerprintAtCopy: before,
        remove: () => rmSync(dest, { recursive: true, force: true }),
      };
    }
    // a build is being written: wait for it to settle
    execFileSync('sleep', ['3']);
  }
  throw new Error(`the working tree's packages/*/dist kept changing while being copied (a build running?)`);
}

/**
 * Copies the packages' dist, schema and package.json; each copy's node_modules links the other copies for
 * @testwire/* and the original install for everything else, so the copy resolves only itself.
 */
function copyPackages(root, dest) {
  for (const name of PACKAGES) {
    const from = join(root, 'packages', name);
    const to = join(dest, 'packages', name);
    mkdirSync(to, { recursive: true });
    for (const entry of ['dist', 'schema', 'package.json'])
      if (existsSync(join(from, entry))) cpSync(join(from, entry), join(to, entry), { recursive: true });
    const modules = join(from, 'node_modules');
    if (!existsSync(modules)) continue;
    for (const entry of readdirSync(modules)) {
      if (entry.startsWith('.')) continue;
      const scoped = entry.startsWith('@')
        ? readdirSync(join(modules, entry)).map((e) => `${entry}/${e}`)
        : [entry];
      for (const dep of scoped) {
        const link = join(to, 'node_modules', dep);
        mkdirSync(dirname(link), { recursive: true });
        const sibling = dep.startsWith('@testwire/') && PACKAGES.includes(dep.slice('@testwire/'.length));
        symlinkSync(
          sibling ? join(dest, 'packages', dep.slice('@testwire/'.length)) : realpathSync(join(modules, dep)),
          link,
        );
      }
    }
  }
}

/**
 * The frozen build of `ref`, made on first use (a few minutes: worktree, offline install, 7 builds) and reused
 * afterwards. `log(line)` reports progress. Throws with the failing command's output tail.
 */
export function oldBuild(ref, log = () => {}) {
  const sha = git(repoRoot, ['rev-parse', '--verify', `${ref}^{commit}`]);
  const dir = join(os.tmpdir(), 'testwire-bench-old', sha);
  const marker = join(dir, '.bench-built');
  if (!existsSync(marker)) {
    if (existsSync(dir)) {
      log(`removing the incomplete old build at ${dir}`);
      try {
        git(repoRoot, ['worktree', 'remove', '--force', dir]);
      } catch {
        rmSync(dir, { recursive: true, force: true });
      }
    }
    git(repoRoot, ['worktree', 'prune']);
    log(`old build: git worktree of ${sha.slice(0, 10)} at ${dir}`);
    git(repoRoot, ['worktree', 'add', '--detach', dir, sha]);
    log('old build: pnpm install --offline --frozen-lockfile');
    run('pnpm', ['install', '--offline', '--frozen-lockfile', '--config.confirmModulesPurge=false'], dir);
    log(`old build: building ${PACKAGES.join(', ')}`);
    run(
      'pnpm',
      [
        ...PACKAGES.flatMap((name) => ['--filter', `@testwire/${name}`]),
        '--workspace-concurrency=1',
        'run',
        'build',
      ],
      dir,
    );
    const build = describe(dir, 'old', sha);
    if (build.missing.length > 0)
      throw new Error(`the old build at ${dir} lacks ${build.missing.join(', ')} after building`);
    writeFileSync(marker, `${JSON.stringify({ sha, builtAt: new Date().toISOString(), PACKAGES })}\n`);
  }
  return describe(dir, 'old', sha);
}

function git(cwd, argv) {
  return execFileSync('git', argv, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

function run(command, argv, cwd) {
  try {
    execFileSync(command, argv, {
      cwd,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, CI: '1' },
      maxBuffer: 64 * 1024 * 1024,
    });
  } catch (error) {
    const tail = `${error.stdout ?? ''}\n${error.stderr ?? ''}`.trim().split('\n').slice(-15).join('\n');
    throw new Error(`${command} ${argv.join(' ')} failed in ${cwd}:\n${tail}`);
  }
}

function fingerprint(root) {
  const hash = createHash('sha1');
  for (const name of PACKAGES) {
    const dist = join(root, 'packages', name, 'dist');
    let files = [];
    try {
      files = readdirSync(dist).filter((f) => /\.(c?js|mjs)$/.test(f));
    } catch {}
    for (const file of files.sort()) {
      const path = join(dist, file);
      hash.update(`${name}/${file}:${statSync(path).size}:`);
      hash.update(readFileSync(path));
    }
  }
  return hash.digest('hex').slice(0, 12);
}
