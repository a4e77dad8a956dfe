/**
 * Finds the mocha that is running this reporter, so the wrapped terminal reporter is that mocha's own
 * `Spec` (same `Base.useColors`, same symbols, same version) and not whatever copy `require('mocha')`
 * would resolve to from this package (pnpm and monorepos routinely hold several).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import type { MochaReporterConstructor, MochaRunner } from './mocha-types.js';

export interface MochaRuntime {
  /** `Mocha.reporters`: built-in reporters by name (`spec`, `Spec`, `json`, …). */
  reporters: Record<string, MochaReporterConstructor | undefined>;
  version?: string;
}

/** `module.exports` of mocha's lib/mocha.js: the Mocha class with the built-ins attached. */
type MochaModuleExports = ((...args: never[]) => unknown) & {
  reporters?: Record<string, MochaReporterConstructor | undefined>;
  Runner?: new (...args: never[]) => unknown;
};

/** mocha's `lib/mocha.{js,cjs}`: mocha's CLI and `new Mocha()` both load it through `require`. */
const MOCHA_LIB = /[\\/]mocha[\\/]lib[\\/]mocha\.c?js$/;

/** Whether a mocha is loaded in this process (its lib/mocha.js in the module cache): it is the one loading us. */
export function mochaLoaded(): boolean {
  return Object.keys(createRequire(import.meta.url).cache).some((filename) => MOCHA_LIB.test(filename));
}

/** A Mocha class loaded in this process, and its version. */
export interface LoadedMocha {
  /** `module.exports` of mocha's lib/mocha.{js,cjs}: the Mocha class. */
  Mocha: { prototype: object };
  version: string | undefined;
}

/** The Mochas loaded in this process (each `mocha/lib/mocha.{js,cjs}` in the module cache). */
export function loadedMochas(): LoadedMocha[] {
  const loaded: LoadedMocha[] = [];
  for (const [filename, module] of Object.entries(createRequire(import.meta.url).cache)) {
    const exports = module?.exports as { prototype?: unknown } | undefined;
    if (!MOCHA_LIB.test(filename) || typeof exports !== 'function') continue;
    loaded.push({
      Mocha: exports as { prototype: object },
      version: readVersion(join(dirname(filename), '..')),
    });
  }
  return loaded;
}

/**
 * The running mocha: the loaded `mocha/lib/mocha.{js,cjs}` whose `Runner` built `runner` (it is in the module
 * cache), else the mocha that resolves from `cwd`. Undefined when no mocha can be found.
 */
export function findRunningMocha(runner: MochaRunner, cwd = process.cwd()): MochaRuntime | undefined {
  const req = createRequire(join(cwd, 'noop.js'));
  let fallback: MochaRuntime | undefined;
  for (const [filename, module] of Object.entries(req.cache)) {
    if (!MOCHA_LIB.test(filename)) continue;
    const exports = module?.exports as MochaModuleExports | undefined;
    if (typeof exports !== 'function' || !exports.reporters) continue;
    const runtime = { reporters: exports.reporters, version: readVersion(join(dirname(filename), '..')) };
    if (typeof exports.Runner === 'function' && runner instanceof exports.Runner) return runtime;
    fallback ??= runtime;
  }
  if (fallback) return fallback;
  try {
    const entry = req.resolve('mocha');
    const exports = req(entry) as MochaModuleExports;
    if (exports?.reporters) {
      return { reporters: exports.reporters, version: readVersion(packageRootOf(entry)) };
    }
  } catch {
    // no mocha resolvable from cwd: the caller reports it
  }
  return undefined;
}

/**
 * Loads the reporter to wrap, the way mocha's own `--reporter` does: a built-in name, else a module id or
 * path resolved from `cwd`. Returns the constructor or an error message saying what was tried.
 */
export function loadReporter(
  name: string,
  runtime: MochaRuntime | undefined,
  cwd = process.cwd(),
): { reporter: MochaReporterConstructor } | { error: string } {
  const builtin = runtime?.reporters[name];
  if (typeof builtin === 'function') return { reporter: builtin };
  const req = createRequire(join(cwd, 'noop.js'));
  let loaded: unknown;
  const failures: string[] = [];
  for (const id of [name, resolve(cwd, name)]) {
    try {
      loaded = req(id);
      break;
    } catch (error) {
      failures.push(error instanceof Error ? error.message.split('\n')[0] : String(error));
    }
  }
  if (loaded === undefined) {
    const known = runtime ? '' : ' (no mocha found to provide built-in reporters)';
    return {
      error: `reporter "${name}" is neither a built-in mocha reporter${known} nor a loadable module: ${failures[0]}`,
    };
  }
  const ctor = typeof loaded === 'function' ? loaded : (loaded as { default?: unknown })?.default;
  if (typeof ctor !== 'function')
    return { error: `reporter module "${name}" does not export a reporter constructor` };
  return { reporter: ctor as MochaReporterConstructor };
}

function readVersion(packageRoot: string): string | undefined {
  try {
    const pkg = JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as {
      name?: string;
      version?: string;
    };
    return pkg.name === 'mocha' && typeof pkg.version === 'string' ? pkg.version : undefined;
  } catch {
    return undefined;
  }
}

function packageRootOf(entry: string): string {
  // mocha's "main" is index.js at the package root in every supported major.
  return dirname(entry);
}
