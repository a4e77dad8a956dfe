import { readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';

/**
 * The config jest runs with, as framework.detected tells it (`configPath`, `testPatterns` of the active
 * framework): what `--config` names, else the config file jest finds itself. The core's own detection cannot
 * say: it looks beside the project only, reads JSON configs only and knows one set of defaults.
 *
 * Jest hands a reporter no ProjectConfig before the first file starts (its constructor gets the GlobalConfig,
 * which has no patterns and no config path, and `{ startRun, firstRun, previousSuccess }`; onRunStart gets
 * empty aggregated results and `{ estimatedTime, showStatus }`), and framework.detected goes out with the run's
 * start. So the file is found here as jest-config found it, and read as jest left it loaded; when its patterns
 * cannot be read so (`patternsUnread`), the project config jest resolved from it tells them (`projectPatterns`),
 * as it hands it with the first file that starts.
 */
export interface JestConfigUsed {
  /** Absolute path of the config file; none for a config given as JSON on the command line. */
  configPath?: string;
  /** `testRegex` if set, else `testMatch`, else jest's default `testMatch`; none when not known. */
  testPatterns?: string[];
  /**
   * The config's patterns cannot be read here: an ES module or TypeScript config jest did not leave in the
   * require cache, one that exports a function, or one that takes its patterns from a `preset`.
   */
  patternsUnread?: boolean;
}

/** What a jest `ProjectConfig` (normalized by jest-config) says of its test files: identical in jest 29 and 30. */
export interface JestProjectPatterns {
  rootDir?: string;
  /** Globs, `<rootDir>` replaced by the project's root (glob characters in it escaped); [] with a testRegex. */
  testMatch?: unknown;
  /** Regular expressions as written; [] when none. */
  testRegex?: unknown;
}

/**
 * The patterns of a project config jest resolved (its preset merged, the command line's patterns applied):
 * `testRegex` if set, else `testMatch`, with the `<rootDir>` jest replaced written back as it was written (the
 * stream names no absolute path). Undefined when it has neither.
 */
export function projectPatterns(config: JestProjectPatterns | undefined): string[] | undefined {
  const regex = strings(config?.testRegex);
  if (regex) return regex;
  const root = typeof config?.rootDir === 'string' ? rootDirAsJestGlobs(config.rootDir) : undefined;
  return strings(config?.testMatch)?.map((glob) =>
    root === undefined || !glob.startsWith(root)
      ? glob
      : glob.length === root.length
        ? '<rootDir>'
        : glob[root.length] === '/'
          ? `<rootDir>${glob.slice(root.length)}`
          : glob,
  );
}

/**
 * `<rootDir>` as jest-config replaces it in `testMatch`: the root with glob characters escaped
 * (escapeGlobCharacters), resolved, its separators made `/` (jest-util's replacePathSepForGlob).
 */
function rootDirAsJestGlobs(rootDir: string): string {
  const escaped = resolve(rootDir.replace(/([!()*?[\\\]{}])/g, '\\$1'));
  return escaped.replace(/\\(?![$()+.?^{}])/g, '/');
}

/**
 * The extensions jest-config reads a config file with, in the order it looks for `jest.config.<ext>`
 * (JEST_CONFIG_EXT_ORDER of jest 30; jest 29's lacks `.mts` and `.cts`).
 */
export const CONFIG_EXTENSIONS: readonly string[] = ['.js', '.ts', '.mjs', '.mts', '.cjs', '.cts', '.json'];

/**
 * What `--config` (`-c`) in jest's command line names: a file (resolved from the working directory, as
 * jest-config does; a package.json holds it under `jest`), or the config itself as JSON; without it, the
 * config file jest finds (resolveConfigPath). And the patterns `--testRegex` / `--testMatch` on the command
 * line give, which replace the config's (jest-config's setFromArgv).
 */
export function jestConfigUsed(argv: readonly string[], cwd: string): JestConfigUsed {
  try {
    return configUsed(argv, cwd);
  } catch {
    // whatever the file system says: the core's own detection stands (this runs in jest's constructor call)
    return {};
  }
}

function configUsed(argv: readonly string[], cwd: string): JestConfigUsed {
  // Given on the command line, a pattern option is the run's: jest refuses a testRegex beside a testMatch,
  // so the config cannot hold the other one.
  const fromArgv = strings(arrayArgument(argv, 'testRegex')) ?? strings(arrayArgument(argv, 'testMatch'));
  const withPatterns = (used: JestConfigUsed, config: () => unknown): JestConfigUsed => {
    const patterns = fromArgv ?? patternsOf(config());
    if (patterns === UNREAD) return { ...used, patternsUnread: true };
    return patterns ? { ...used, testPatterns: patterns } : used;
  };
  const value = configArgument(argv);
  if (value?.trim().startsWith('{')) return withPatterns({}, () => parseJson(value));
  if (value !== undefined) {
    // A file (jest refuses a folder), resolved from the working directory.
    const path = resolve(cwd, value);
    if (!isFile(path)) return fromArgv ? { testPatterns: fromArgv } : {};
    return withPatterns({ configPath: path }, () => loadedConfig(path));
  }
  // Without `--config`, jest-cli reads the config of its one project: the one `--projects` entry, else the
  // working directory. Several `--projects`: each has its own config.
  const projects = arrayArgument(argv, 'projects');
  const path =
    projects && projects.length > 1 ? undefined : resolveConfigPath(resolve(cwd, projects?.[0] ?? '.'));
  if (path === undefined) return fromArgv ? { testPatterns: fromArgv } : {};
  // A package.json without `jest`: jest reads it as an empty config, nothing is set there.
  if (path.endsWith('package.json') && !hasJestKey(path)) return withPatterns({}, () => ({}));
  return withPatterns({ configPath: path }, () => loadedConfig(path));
}

/**
 * The values of an array option of jest's command line (`--testMatch a b`, `--test-match=a`, repeated),
 * parsed as jest's yargs does: greedy (every following argument up to the next option), occurrences added up.
 */
function arrayArgument(argv: readonly string[], name: string): string[] | undefined {
  const names = [`--${name}`, `--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`];
  let values: string[] | undefined;
  for (let index = 0; index < argv.length; index++) {
    const arg = argv[index];
    if (arg === '--') break;
    const equals = arg.indexOf('=');
    const option = equals < 0 ? arg : arg.slice(0, equals);
    if (!names.includes(option)) continue;
    values ??= [];
    if (equals >= 0) values.push(arg.slice(equals + 1));
    while (index + 1 < argv.length && !argv[index + 1].startsWith('-')) values.push(argv[++index]);
  }
  return values;
}

/**
 * The config file jest reads for `path`, as jest-config's resolveConfigPath finds it: `path` if it is a file;
 * else, in the first folder up from it that has a `jest.config.<ext>` or a package.json, the first config
 * file in jest's order, else the package.json. Undefined when there is none (then jest stopped before
 * reporters load).
 */
function resolveConfigPath(path: string): string | undefined {
  if (isFile(path)) return path;
  const extensions = jestConfig()?.constants?.JEST_CONFIG_EXT_ORDER ?? CONFIG_EXTENSIONS;
  for (let dir = path; ; dir = dirname(dir)) {
    const found = extensions.map((ext) => join(dir, `jest.config${ext}`)).find(isFile);
    if (found) return found;
    const manifest = join(dir, 'package.json');
    if (isFile(manifest)) return manifest;
    if (dirname(dir) === dir) return undefined;
  }
}

/** Whether the package.json at `path` has a `jest` key (jest-config's test: `'jest' in` the parsed file). */
function hasJestKey(path: string): boolean {
  const manifest = parseJson(readText(path));
  return typeof manifest === 'object' && manifest !== null && 'jest' in manifest;
}

/** The `--config`/`-c` value of the command line (the last one, if repeated). */
function configArgument(argv: readonly string[]): string | undefined {
  let value: string | undefined;
  for (let index = 0; index < argv.length; index++) {
    const arg = argv[index];
    if (arg === '--') break;
    if (arg === '--config' || arg === '-c') value = argv[++index];
    else if (arg.startsWith('--config=')) value = arg.slice('--config='.length);
    else if (arg.startsWith('-c=')) value = arg.slice('-c='.length);
  }
  return value;
}

/** Whether `path` is a file (not a folder, not missing). */
export function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/**
 * The config object in `path`: JSON read here; a module as jest loaded it (from the module cache: it is not
 * run again, and an ES module or a config function is not read). Undefined when not readable so.
 */
export function configAt(path: string): unknown {
  try {
    return path === '' ? undefined : loadedConfig(path);
  } catch {
    return undefined;
  }
}

function loadedConfig(path: string): unknown {
  if (path.endsWith('package.json'))
    return (parseJson(readText(path)) as { jest?: unknown } | undefined)?.jest;
  if (path.endsWith('.json')) return parseJson(readText(path));
  const loaded = createRequire(path).cache[path]?.exports as { __esModule?: boolean; default?: unknown };
  return loaded?.__esModule ? loaded.default : loaded;
}

/** Patterns a config leaves to what jest makes of it (see JestConfigUsed.patternsUnread). */
const UNREAD = Symbol('unread');

/**
 * The patterns of a config as written: UNREAD when only jest's resolved config can tell them (a config not
 * loaded here, a function, a preset's patterns); undefined for none (projects).
 */
function patternsOf(config: unknown): string[] | undefined | typeof UNREAD {
  if (typeof config !== 'object' || config === null) return UNREAD;
  const { testRegex, testMatch, projects, preset } = config as Record<string, unknown>;
  // Projects: each has its own patterns (the active framework has one list).
  if (projects !== undefined) return undefined;
  const own = strings(testRegex) ?? strings(testMatch);
  // A preset's patterns are merged under the config's own (a testRegex beside a preset's testMatch, or the
  // other way round, is a config error): without its own, the config has the preset's, or jest's defaults.
  if (!own && typeof preset === 'string' && preset !== '') return UNREAD;
  return own ?? jestDefaultTestMatch();
}

function strings(value: unknown): string[] | undefined {
  if (typeof value === 'string' && value !== '') return [value];
  if (Array.isArray(value) && value.length > 0 && value.every((item) => typeof item === 'string'))
    return [...value];
  return undefined;
}

/** The default `testMatch` of the jest-config jest loaded (it changed between majors). */
function jestDefaultTestMatch(): string[] | undefined {
  return strings(jestConfig()?.defaults?.testMatch);
}

/** What is read of jest-config's exports (jest 29 and 30). */
interface JestConfigModule {
  defaults?: { testMatch?: unknown };
  constants?: { JEST_CONFIG_EXT_ORDER?: readonly string[] };
}

/** The jest-config jest loaded (it read the run's config): from the module cache, not loaded again. */
function jestConfig(): JestConfigModule | undefined {
  // One module cache per process: any path reaches it.
  const cache = createRequire(join(process.cwd(), 'noop.js')).cache;
  for (const [file, entry] of Object.entries(cache)) {
    if (/[\\/]jest-config[\\/]build[\\/]index\.js$/.test(file)) return entry?.exports as JestConfigModule;
  }
  return undefined;
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
