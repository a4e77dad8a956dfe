import { readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';

/**
 * The config jest runs with, as framework.detected tells it (`configPath`, `testPatterns` of the active
 * framework): what `--config` names. Without it the core's own detection is right (the config file jest finds
 * beside the project); with it, that detection would name the default file and its patterns instead.
 */
export interface JestConfigUsed {
  /** Absolute path of the config file; none for a config given as JSON on the command line. */
  configPath?: string;
  /** `testRegex` if set, else `testMatch`, else jest's default `testMatch`; none when not known. */
  testPatterns?: string[];
}

/**
 * What `--config` (`-c`) in jest's command line names: a file (resolved from the working directory, as
 * jest-config does; a package.json holds it under `jest`), or the config itself as JSON; and the patterns
 * `--testRegex` / `--testMatch` on the command line give, which replace the config's (jest-config's
 * setFromArgv). Empty without any of them.
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
    return patterns ? { ...used, testPatterns: patterns } : used;
  };
  const value = configArgument(argv);
  if (value === undefined) return fromArgv ? { testPatterns: fromArgv } : {};
  if (value.trim().startsWith('{')) return withPatterns({}, () => parseJson(value));
  const path = resolve(cwd, value);
  if (!isFile(path)) return fromArgv ? { testPatterns: fromArgv } : {};
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

function isFile(path: string): boolean {
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

function patternsOf(config: unknown): string[] | undefined {
  if (typeof config !== 'object' || config === null) return undefined;
  const { testRegex, testMatch, projects } = config as Record<string, unknown>;
  // Projects: each has its own patterns (the active framework has one list).
  if (projects !== undefined) return undefined;
  return strings(testRegex) ?? strings(testMatch) ?? jestDefaultTestMatch();
}

function strings(value: unknown): string[] | undefined {
  if (typeof value === 'string' && value !== '') return [value];
  if (Array.isArray(value) && value.length > 0 && value.every((item) => typeof item === 'string'))
    return [...value];
  return undefined;
}

/** The default `testMatch` of the jest-config jest loaded (it changed between majors). */
function jestDefaultTestMatch(): string[] | undefined {
  // One module cache per process: any path reaches it.
  const cache = createRequire(join(process.cwd(), 'noop.js')).cache;
  for (const [file, entry] of Object.entries(cache)) {
    if (!/[\\/]jest-config[\\/]build[\\/]index\.js$/.test(file)) continue;
    return strings((entry?.exports as { defaults?: { testMatch?: unknown } })?.defaults?.testMatch);
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
