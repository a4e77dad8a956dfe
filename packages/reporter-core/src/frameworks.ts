/**
 * framework.detected: the test frameworks of a project, from its package.json (dependencies and config
 * keys) and the config files beside it. Each: name, the installed version (else the declared range), the
 * config file, and test patterns (the runner's defaults unless a JSON config names them, none when a config
 * that is code may; the active runner's
 * adapter tells its real ones). Plain synchronous reads: once per run on the core's thread, and in
 * `testwire detect`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import type { FrameworkInfo } from '@testwire/protocol';

export type DetectedFramework = FrameworkInfo;

interface Known {
  name: string;
  /** Packages whose presence means the framework (the first one's version is reported). */
  packages: string[];
  configs: string[];
  /** The package.json key that holds its config, if any. */
  packageKey?: string;
  /** The key of its JSON config that lists test patterns. */
  patternKey?: string;
  defaults: string[];
  /** Other defaults from a major version on (jest 30 added `.mjs`/`.cjs` test files). */
  defaultsSince?: { major: number; patterns: string[] };
}

const EXT = ['ts', 'mts', 'cts', 'js', 'mjs', 'cjs'];

const KNOWN: readonly Known[] = [
  {
    name: 'jest',
    packages: ['jest', '@jest/core'],
    configs: [...EXT.map((ext) => `jest.config.${ext}`), 'jest.config.json'],
    packageKey: 'jest',
    patternKey: 'testMatch',
    // jest-config's own (29's second pattern is `[tj]`).
    defaults: ['**/__tests__/**/*.[jt]s?(x)', '**/?(*.)+(spec|test).[tj]s?(x)'],
    defaultsSince: {
      major: 30,
      patterns: ['**/__tests__/**/*.?([mc])[jt]s?(x)', '**/?(*.)+(spec|test).?([mc])[jt]s?(x)'],
    },
  },
  {
    name: 'vitest',
    packages: ['vitest'],
    configs: [...EXT.map((ext) => `vitest.config.${ext}`), ...EXT.map((ext) => `vite.config.${ext}`)],
    defaults: ['**/*.{test,spec}.?(c|m)[jt]s?(x)'],
  },
  {
    name: 'playwright',
    packages: ['@playwright/test'],
    configs: EXT.map((ext) => `playwright.config.${ext}`),
    defaults: ['**/*.@(spec|test).?(c|m)[jt]s?(x)'],
  },
  {
    name: 'mocha',
    packages: ['mocha'],
    configs: [
      '.mocharc.js',
      '.mocharc.cjs',
      '.mocharc.yaml',
      '.mocharc.yml',
      '.mocharc.json',
      '.mocharc.jsonc',
    ],
    packageKey: 'mocha',
    patternKey: 'spec',
    defaults: ['./test/*.{js,cjs,mjs}'],
  },
];

type PackageJson = {
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
} & Record<string, unknown>;

/**
 * The frameworks of the project at or above `dir` (the nearest package.json's folder; `dir` itself when
 * there is none). Paths are relative to that folder, `./`-prefixed. Never throws.
 */
export function detectFrameworks(dir: string): DetectedFramework[] {
  const projectDir = projectDirOf(dir);
  const pkg = readJson(join(projectDir, 'package.json')) as PackageJson | undefined;
  const declared: Record<string, string> = {
    ...pkg?.optionalDependencies,
    ...pkg?.peerDependencies,
    ...pkg?.dependencies,
    ...pkg?.devDependencies,
  };
  const found: DetectedFramework[] = [];
  for (const known of KNOWN) {
    const dependency = known.packages.find((name) => typeof declared[name] === 'string');
    const configFile = known.configs.find((name) => existsSync(join(projectDir, name)));
    const inPackage = known.packageKey !== undefined && pkg?.[known.packageKey] !== undefined;
    // A vite config alone is not vitest.
    const configCounts =
      configFile !== undefined && !(known.name === 'vitest' && configFile.startsWith('vite.'));
    if (!dependency && !configCounts && !inPackage) continue;
    const info: DetectedFramework = { name: known.name };
    const version =
      installedVersion(projectDir, dependency ?? known.packages[0]) ??
      (dependency ? declared[dependency] : undefined);
    if (version) info.version = version;
    const configPath = configFile
      ? join(projectDir, configFile)
      : inPackage
        ? join(projectDir, 'package.json')
        : undefined;
    if (configPath) info.configPath = displayPath(projectDir, configPath);
    const patterns = patternsOf(
      known,
      configFile ? join(projectDir, configFile) : undefined,
      inPackage ? pkg?.[known.packageKey as string] : undefined,
    );
    // A config file that is code (or YAML) may name patterns this cannot read: unknown, not the defaults.
    const unread =
      known.patternKey !== undefined && configFile !== undefined && !/\.jsonc?$/.test(configFile);
    const testPatterns = patterns ?? (unread ? undefined : defaultsOf(known, version));
    if (testPatterns) info.testPatterns = testPatterns;
    found.push(info);
  }
  return found;
}

/** `path` relative to `from` with `/`: `./x` below it, `../x` beside it (an absolute path never shows). */
export function displayPath(from: string, path: string): string {
  const rel = relative(from, path).split(sep).join('/');
  return rel.startsWith('../') || rel === '..' ? rel : `./${rel}`;
}

/** The folder of the nearest package.json at or above `dir`; `dir` itself when there is none. */
export function projectDirOf(dir: string): string {
  return findProjectDir(dir) ?? dir;
}

/** The runner's default patterns for its version (a range's or a bare version's major). */
function defaultsOf(known: Known, version: string | undefined): string[] {
  const major = Number(/(\d+)/.exec(version ?? '')?.[1]);
  return known.defaultsSince && major >= known.defaultsSince.major
    ? known.defaultsSince.patterns
    : known.defaults;
}

function patternsOf(
  known: Known,
  configFile: string | undefined,
  packageConfig: unknown,
): string[] | undefined {
  if (!known.patternKey) return undefined;
  const config =
    (configFile && /\.jsonc?$/.test(configFile) ? readJson(configFile) : undefined) ?? packageConfig;
  const value = (config as Record<string, unknown> | undefined)?.[known.patternKey];
  if (typeof value === 'string') return [value];
  if (Array.isArray(value) && value.every((item) => typeof item === 'string')) return value as string[];
  return undefined;
}

function installedVersion(from: string, name: string): string | undefined {
  let current = from;
  for (let depth = 0; depth < 32; depth++) {
    const version = (
      readJson(join(current, 'node_modules', name, 'package.json')) as { version?: unknown } | undefined
    )?.version;
    if (typeof version === 'string') return version;
    const parent = dirname(current);
    if (parent === current) return undefined;
    current = parent;
  }
  return undefined;
}

function findProjectDir(dir: string): string | undefined {
  let current = dir;
  for (let depth = 0; depth < 64; depth++) {
    if (existsSync(join(current, 'package.json'))) return current;
    const parent = dirname(current);
    if (parent === current) return undefined;
    current = parent;
  }
  return undefined;
}

function readJson(file: string): unknown {
  try {
    // JSONC (.mocharc.jsonc): line comments dropped; anything else that does not parse is skipped.
    return JSON.parse(readFileSync(file, 'utf8').replace(/^\s*\/\/.*$/gm, ''));
  } catch {
    return undefined;
  }
}
