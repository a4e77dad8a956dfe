/**
 * Where a project's baselines are. A reporter writes `.test-baselines/` under its runner's root: the
 * project's folder for jest, vitest and mocha, but Playwright's root is its `testDir` (`config.rootDir`), so a
 * project whose Playwright tests are under ./tests has `tests/.test-baselines/`. Reading each runner's config
 * to learn its root would mean loading TypeScript configs; the folders themselves say where they are, so the
 * `baseline` commands look for `.test-baselines` folders below the current directory (bounded, without
 * node_modules and hidden folders) besides the current directory's own.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { BASELINE_DIR, baselinePath } from '@testwire/reporter-core/baseline';
import { CliError, ExitCode } from './errors.js';

/** How far below the root the walk looks, and how many folders it reads at most (a root of `~` stays quick). */
const MAX_DEPTH = 6;
const MAX_FOLDERS = 5000;

/** The default folder (`<root>/.test-baselines`, whether it exists or not), then those found below it. */
export function baselineDirs(root: string): string[] {
  const own = resolve(root, BASELINE_DIR);
  const found: string[] = [];
  let level = [resolve(root)];
  let read = 0;
  for (let depth = 0; depth <= MAX_DEPTH && level.length > 0 && read < MAX_FOLDERS; depth++) {
    const next: string[] = [];
    for (const dir of level) {
      if (read++ >= MAX_FOLDERS) break;
      let entries: import('node:fs').Dirent[];
      try {
        entries = readdirSync(dir, { withFileTypes: true });
      } catch {
        continue; // unreadable: not ours to report
      }
      for (const entry of entries) {
        // Symbolic links are not followed (isDirectory is false for them): no cycles, no folder twice.
        if (!entry.isDirectory()) continue;
        const path = join(dir, entry.name);
        if (entry.name === BASELINE_DIR) {
          if (path !== own) found.push(path);
        } else if (entry.name !== 'node_modules' && !entry.name.startsWith('.')) next.push(path);
      }
    }
    level = next;
  }
  return [own, ...found.sort()];
}

/**
 * The folder whose `<label>.json` a command reads or folds a run into, of `dirs` (baselineDirs): the default
 * folder's when it has the label (as before, and what `--dir` would say), else the one folder that has it; of
 * several, the one `prefer` picks alone (the file with the run's runner and project); else an error naming
 * them. No folder has it: the default folder (save creates it there; show and compare say it is missing).
 */
export function folderOf(label: string, dirs: readonly string[], prefer?: (path: string) => boolean): string {
  const [own, ...others] = dirs;
  if (existsSync(baselinePath(own, label))) return own;
  const having = others.filter((dir) => existsSync(baselinePath(dir, label)));
  if (having.length === 0) return own;
  if (having.length === 1) return having[0];
  const preferred = prefer ? having.filter((dir) => prefer(baselinePath(dir, label))) : [];
  if (preferred.length === 1) return preferred[0];
  throw new CliError(
    `baseline ${label} is in ${having.length} folders: ${having.map(shownPath).join(', ')}; pick one with --dir`,
    'AMBIGUOUS_BASELINE',
    ExitCode.USAGE,
  );
}

/** Paths as the user would type them: relative to the current directory. */
export function shownPath(path: string): string {
  const rel = relative(process.cwd(), path).split(sep).join('/');
  return rel.startsWith('..') || rel === '' ? path : `./${rel}`;
}
