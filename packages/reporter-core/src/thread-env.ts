/**
 * The environment the reporter's thread starts with (thread.ts). None of the runner's own Node flags: the
 * thread runs built CommonJS and needs none of them, and a preload there (`--require ts-node/register`,
 * `--import tsx`, an APM agent, a coverage or bench hook) would run a second time, on the thread, costing its
 * start-up or worse. The command line is kept out by the Worker's `execArgv: []`; `NODE_OPTIONS` Node parses
 * again from the env of every Worker it starts, so it is taken out of the thread's env.
 *
 * Except Yarn Plug'n'Play's own. Under PnP (`process.versions.pnp`) there is no node_modules folder: packages
 * are read from zip archives, through the resolver and the zip file system that `.pnp.cjs` installs in each
 * thread it is required in (and `.pnp.loader.mjs` for `import`). Yarn puts both in NODE_OPTIONS
 * (`--require <project>/.pnp.cjs --experimental-loader file:///<project>/.pnp.loader.mjs`); without the
 * runtime the thread cannot read its own file (`…/reporter-core-file-….zip/…/dist/core-worker.cjs`), nor
 * `require('ws')` later. So the runtime goes into the thread's NODE_OPTIONS, and nothing else of them.
 *
 * The loader only when the thread will `import` a package: it starts a hooks thread of the thread's own
 * (loading the runtime once more), which cost the thread's start ~160 ms more CPU here (Node 20, against ~30 ms
 * for the runtime alone), for nothing in most runs. The thread requires its packages (`ws`; `@testwire/redis`); the one it imports is jose, an ES
 * module only, when its broadcaster verifies JWTs (env TESTWIRE_JWT_SECRET: the reporter gives the broadcaster
 * no JWT option). `import('@testwire/dashboard')` fails without the loader, and the broadcaster then requires
 * the dashboard from the working directory's package (broadcaster/src/dashboard.ts).
 */
import { createRequire } from 'node:module';
import { isAbsolute, resolve } from 'node:path';

/** Yarn's PnP runtime (`.pnp.cjs`; `.pnp.js` before Yarn 3) and its ESM loader, by file name. */
const PNP_RUNTIME = /(^|[\\/])\.pnp\.c?js$/;
const PNP_LOADER = /(^|[\\/])\.pnp\.loader\.mjs$/;

const REQUIRE_FLAGS = new Set(['--require', '-r']);
const LOADER_FLAGS = new Set(['--experimental-loader', '--loader']);

interface Env {
  [name: string]: string | undefined;
}

/**
 * The reporter's thread's env: the runner's, with NODE_OPTIONS reduced to Yarn PnP's runtime (and its loader
 * when the thread imports a package) when the process runs under PnP (`pnp`), or without NODE_OPTIONS
 * otherwise. PnP's flags are looked for in NODE_OPTIONS and on the command line (`execArgv`: `node -r
 * ./.pnp.cjs …`); a runtime set up some other way (`require('./.pnp.cjs').setup()`) is found by `pnpRuntime`.
 */
export function threadEnv(
  env: Env,
  execArgv: readonly string[],
  pnp: boolean,
  pnpRuntime: () => string | undefined = resolvePnpRuntime,
): Env {
  const { NODE_OPTIONS: nodeOptions, ...rest } = env;
  const kept = pnp ? pnpFlags(nodeOptions, execArgv, pnpRuntime, importsPackages(env)) : [];
  if (kept.length > 0) rest.NODE_OPTIONS = kept.map(quote).join(' ');
  return rest;
}

/** Whether the thread will `import` a package (see above): jose, for JWTs. */
function importsPackages(env: Env): boolean {
  return Boolean(env.TESTWIRE_JWT_SECRET);
}

/** PnP's `--require` (and loader, with `withLoader`), as flag and value pairs, each once; the runtime first. */
function pnpFlags(
  nodeOptions: string | undefined,
  execArgv: readonly string[],
  pnpRuntime: () => string | undefined,
  withLoader: boolean,
): string[] {
  let runtime: string | undefined;
  let loader: { flag: string; value: string } | undefined;
  for (const args of [splitNodeOptions(nodeOptions ?? ''), execArgv])
    for (const { flag, value } of flagsOf(args)) {
      if (!runtime && REQUIRE_FLAGS.has(flag) && PNP_RUNTIME.test(value)) runtime = absolute(value);
      else if (!loader && LOADER_FLAGS.has(flag) && PNP_LOADER.test(value))
        loader = { flag, value: /^file:/.test(value) ? value : absolute(value) };
    }
  runtime ??= pnpRuntime();
  // Without the runtime the loader cannot work either (it reads through the runtime's API).
  if (!runtime) return [];
  return ['--require', runtime, ...(loader && withLoader ? [loader.flag, loader.value] : [])];
}

/** Each option of a list of Node arguments with its value (`--flag value` or `--flag=value`). */
function* flagsOf(args: readonly string[]): Generator<{ flag: string; value: string }> {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    const equals = arg.startsWith('--') ? arg.indexOf('=') : -1;
    if (equals > 0) yield { flag: arg.slice(0, equals), value: arg.slice(equals + 1) };
    else if (REQUIRE_FLAGS.has(arg) || LOADER_FLAGS.has(arg)) {
      const value = args[i + 1];
      if (value !== undefined) yield { flag: arg, value };
      i++;
    }
  }
}

/**
 * NODE_OPTIONS split as Node splits it: on spaces, except inside double quotes, where a backslash escapes
 * the next character (Yarn quotes a project path with a space in it).
 */
export function splitNodeOptions(value: string): string[] {
  const args: string[] = [];
  let current: string | undefined;
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    let c = value[i] as string;
    if (c === '\\' && quoted && i + 1 < value.length) c = value[++i] as string;
    else if (c === '"') {
      quoted = !quoted;
      current ??= '';
      continue;
    } else if (c === ' ' && !quoted) {
      if (current !== undefined) args.push(current);
      current = undefined;
      continue;
    }
    current = (current ?? '') + c;
  }
  if (current !== undefined) args.push(current);
  return args;
}

function quote(arg: string): string {
  return /[\s"\\]/.test(arg) ? `"${arg.replace(/["\\]/g, '\\$&')}"` : arg;
}

function absolute(path: string): string {
  return isAbsolute(path) ? path : resolve(path);
}

/** The project's `.pnp.cjs`: what `pnpapi` resolves to under PnP, from this package. */
function resolvePnpRuntime(): string | undefined {
  try {
    const file = createRequire(import.meta.url).resolve('pnpapi');
    return PNP_RUNTIME.test(file) ? file : undefined;
  } catch {
    return undefined;
  }
}
