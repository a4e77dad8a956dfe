import { existsSync, realpathSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { localRequire } from './local-require.js';

/**
 * Stable test id: the same framework, project, file (relative to the root), title path, repeat index and
 * ordinal give the same id in every run, on every machine. Runner ids are useless for this: mocha's are
 * random and vitest's shift when a file gains a test.
 *
 * The ordinal tells apart tests with identical titles in one file (0 for the first, 1 for the second…). It
 * joins the key only when it is not 0, so a test whose title is unique in its file keeps the id it had
 * before ordinals existed, and adding a twin after it does not change it. docs/protocol.md says what
 * changes an id.
 *
 * `t_` + the first 16 hex digits of a SHA-1 (64 bits: collisions are not a concern at test-suite scale).
 */
export function stableTestId(parts: {
  framework: string;
  project?: string;
  runnerProject?: string;
  file: string;
  titlePath: readonly string[];
  repeatIndex?: number;
  ordinal?: number;
}): string {
  const fields: unknown[] = [
    parts.framework,
    parts.project ?? '',
    parts.runnerProject ?? '',
    parts.file,
    parts.titlePath,
    parts.repeatIndex ?? 0,
  ];
  if (parts.ordinal) fields.push(parts.ordinal);
  const key = JSON.stringify(fields);
  // Joined, not concatenated: V8 makes `'t_' + slice` a pair of references (to 't_' and to a slice that keeps
  // all 40 hex digits), and an id lives as long as its run in a store or two: join makes one 18-character string.
  return ['t_', sha1Hex(key).slice(0, 16)].join('');
}

type OneShotHash = (algorithm: string, data: string, encoding: 'hex') => string;
let sha1: ((text: string) => string) | undefined;
/**
 * `node:crypto` is loaded on the first id, not with the module: the reporter loads on the runner's thread,
 * where ids are rarely computed (the core thread computes them), and loading crypto costs ~4 ms there.
 * `crypto.hash` (Node >= 20.12) skips the Hash object a test id would otherwise allocate.
 */
function sha1Hex(text: string): string {
  if (!sha1) {
    const crypto = localRequire('node:crypto') as typeof import('node:crypto');
    const oneShot = (crypto as unknown as { hash?: OneShotHash }).hash;
    sha1 =
      typeof oneShot === 'function'
        ? (input) => oneShot('sha1', input, 'hex')
        : (input) => crypto.createHash('sha1').update(input).digest('hex');
  }
  return sha1(text);
}

/** Random run id: `r_` + base36 time + random, sortable by start time within a machine. */
export function createRunId(): string {
  const random = Math.random().toString(36).slice(2, 10).padEnd(8, '0');
  return `r_${Date.now().toString(36)}${random}`;
}

/**
 * Makes paths relative to a root, with '/' separators. Knows the root by its given path and by its real path
 * (a runner may hand out realpaths when the root is reached through a symlink). In free text (stacks), paths
 * under an outer directory — a package root above a test directory, e.g. Playwright's testDir inside its
 * project — become relative too (`../src/page.ts`), so no absolute path of the machine reaches the wire.
 */
export class PathRelativizer {
  private readonly roots: string[];
  private readonly patterns: RegExp[];
  /** Outer directories' patterns, innermost first, with what replaces them ('../', '../../'). */
  private readonly outer: { pattern: RegExp; replacement: string }[];
  /** `file()` runs for every event of every test: a run has few distinct files, so remember them. */
  private readonly files = new Map<string, string>();

  constructor(rootDir: string, realRootDir?: string, outerDirs: readonly string[] = []) {
    const roots = [rootDir];
    if (realRootDir && realRootDir !== rootDir) roots.push(realRootDir);
    // Longest first so a nested real path is not half-replaced by a shorter alias.
    this.roots = roots.map(stripTrailingSep).sort((a, b) => b.length - a.length);
    this.patterns = this.roots.map(pathPattern);
    const base = stripTrailingSep(rootDir);
    this.outer = outerDirs
      .map(stripTrailingSep)
      .filter((dir) => dir.length < base.length && base.startsWith(dir))
      .sort((a, b) => b.length - a.length)
      .map((dir) => ({
        pattern: pathPattern(dir),
        replacement: `${relative(base, dir).split(sep).join('/')}/`,
      }));
  }

  /**
   * For `rootDir` as given and as its real path (when it resolves), and the package roots above it (the
   * directories with a package.json): what a reporter's root needs.
   */
  static forRoot(rootDir: string): PathRelativizer {
    let realRoot: string | undefined;
    try {
      realRoot = realpathSync(rootDir);
    } catch {
      // the root does not exist (yet): only its given path is known
    }
    return new PathRelativizer(rootDir, realRoot, packageRootsAbove(rootDir));
  }

  /** A test file as given by a runner (absolute, file:// URL or already relative) -> root-relative with '/'. */
  file(file: string): string {
    const known = this.files.get(file);
    if (known !== undefined) return known;
    const relativePath = this.relativize(file);
    // Bounded: a pathological caller (a new path per call) costs a recomputation, not memory.
    if (this.files.size >= MAX_CACHED_PATHS) this.files.clear();
    this.files.set(file, relativePath);
    return relativePath;
  }

  private relativize(file: string): string {
    let path = file;
    if (path.startsWith('file://')) {
      try {
        path = fileURLToPath(path);
      } catch {
        // not a valid file URL: keep as given
      }
    }
    if (isAbsolute(path)) {
      const candidates = this.roots.map((root) => relative(root, path));
      // Prefer the candidate that stays inside a root.
      path = candidates.find((candidate) => !candidate.startsWith('..')) ?? candidates[0];
    }
    path = path.split(sep).join('/');
    if (path.startsWith('./')) path = path.slice(2);
    return path;
  }

  /** Replaces every occurrence of the root (plain or file:// URL) in free text, e.g. a stack trace. */
  text(text: string): string {
    let result = text;
    for (const pattern of this.patterns) result = result.replace(pattern, '');
    for (const { pattern, replacement } of this.outer) result = result.replace(pattern, replacement);
    return result;
  }
}

/** Matches a directory (plain, with '/' separators, or as a file:// URL) followed by a separator. */
function pathPattern(dir: string): RegExp {
  const posix = dir.split(sep).join('/');
  const alternatives = [...new Set([dir, posix])].map(escapeRegExp).join('|');
  // file:///abs/dir/x -> x ; /abs/dir/x -> x (only when followed by a separator: /abs/dirx stays)
  return new RegExp(`(?:file://)?(?:${alternatives})[\\\\/]`, 'g');
}

/** Directories above `dir` that hold a package.json (a package or workspace root), nearest first. */
function packageRootsAbove(dir: string): string[] {
  const found: string[] = [];
  let current = dirname(stripTrailingSep(dir));
  for (let depth = 0; depth < 32; depth++) {
    if (existsSync(join(current, 'package.json'))) found.push(current);
    const parent = dirname(current);
    if (parent === current) break;
    current = parent;
  }
  return found;
}

const MAX_CACHED_PATHS = 10_000;

function stripTrailingSep(path: string): string {
  return path.length > 1 && (path.endsWith('/') || path.endsWith('\\')) ? path.slice(0, -1) : path;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
