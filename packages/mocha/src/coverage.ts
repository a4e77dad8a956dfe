/**
 * Coverage of a mocha run under nyc (`nyc mocha …`): nyc instruments the code in this very process and
 * counts into `global.__coverage__`, and hands its resolved options over in `NYC_CONFIG`. When the run ends
 * the counts are final. nyc's report, after mocha exits, merges every coverage file in its temp directory
 * (`.nyc_output`, NYC#getCoverageMapFromAllCoverageFiles): this process's (written at its exit), the one
 * nyc itself wrote before it started mocha with `all: true` (NYC#addAllFiles: every file its include /
 * exclude / extension / excludeNodeModules select, instrumented, with zero hits and `all: true`), those of
 * child processes that have exited, and, with `--no-clean`, those of earlier runs. The same merge is done
 * here, with nyc's own istanbul-lib-coverage: the files already in the temp directory, then this process's
 * counters. So the figures are the ones nyc prints — but for source-map remapping (transpiled code), which
 * nyc does when it writes its report, and child processes still running at mocha's end.
 *
 * Thresholds: with `--check-coverage`, nyc's `lines` / `functions` / `branches` / `statements` and
 * `perFile`. c8 (V8 coverage) writes its data at process exit: nothing to read here.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import {
  type CoverageReport,
  checkThresholds,
  istanbulReport,
  metricThresholds,
} from '@testwire/reporter-core';

interface NycConfig {
  cwd?: string;
  all?: boolean;
  tempDirectory?: string;
  tempDir?: string;
  reporter?: string | string[];
  checkCoverage?: boolean;
  perFile?: boolean;
  lines?: number;
  functions?: number;
  branches?: number;
  statements?: number;
}

interface CoverageMap {
  merge(data: unknown): void;
}

/** undefined unless this process runs under nyc with counters to read. */
export function nycCoverageReport(
  env: NodeJS.ProcessEnv = process.env,
  counters: unknown = (globalThis as { __coverage__?: unknown }).__coverage__,
): CoverageReport | undefined {
  if (!env.NYC_CONFIG || typeof counters !== 'object' || counters === null) return undefined;
  const config = JSON.parse(env.NYC_CONFIG) as NycConfig;
  const cwd = config.cwd || process.cwd();
  const lib = istanbulLib(cwd);
  if (!lib) return undefined;
  const written = writtenCoverage(tempDirectory(config, cwd), env.NYC_PROCESS_ID);
  const map = lib.createCoverageMap({});
  // The written files first, this process's counters last: istanbul's merge keeps the object of a file it
  // adds and writes the sums into the one already there, so nyc's live counters are never written to.
  for (const data of written.files) map.merge(data);
  map.merge(counters);
  const coverage = istanbulReport(map, 'nyc', config.reporter);
  if (!coverage) return undefined;
  const { report } = coverage;
  if (config.checkCoverage === true) {
    report.thresholds = metricThresholds(config);
    if (config.perFile === true) report.perFile = coverage.perFile();
  }
  if (written.error !== undefined) {
    const missing =
      config.all === true
        ? 'the files no test loaded (`all`) and child processes are not counted'
        : 'child processes are not counted';
    report.note = `nyc's temp directory could not be read (${written.error}): ${missing}`;
    // Files nyc adds with zero hits can only lower the figures: a miss stands, a pass is not known.
    if (config.all === true && report.thresholds && checkThresholds(report)?.passed !== false) {
      delete report.thresholds;
      delete report.perFile;
      report.thresholdsMet = false;
      report.note += '; the thresholds could not be checked and are reported as not met';
    }
  }
  return report;
}

/** nyc's NYC#tempDirectory(). */
function tempDirectory(config: NycConfig, cwd: string): string {
  return resolve(cwd, config.tempDirectory || config.tempDir || './.nyc_output');
}

/**
 * The coverage files nyc's report will merge that are already written (NYC#coverageFiles and
 * #coverageFileLoad: every entry of the directory; one that cannot be read or parsed counts as empty),
 * but this process's own (`<NYC_PROCESS_ID>.json`, written at its exit: its counters are live here).
 */
function writtenCoverage(dir: string, ownId: string | undefined): { files: object[]; error?: string } {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (error) {
    return { files: [], error: (error as NodeJS.ErrnoException).code ?? String(error) };
  }
  const files: object[] = [];
  for (const name of names) {
    if (ownId && name === `${ownId}.json`) continue;
    try {
      const data: unknown = JSON.parse(readFileSync(join(dir, name), 'utf8'));
      if (typeof data === 'object' && data !== null && !Array.isArray(data)) files.push(data);
    } catch {
      // nyc's coverageFileLoad: {} (the processinfo directory, a file being written)
    }
  }
  return { files };
}

/** nyc's files that are loaded in the process it runs (its lib/wrap.js preloads nyc's index.js), or its bin. */
const NYC_FILE = /[\\/]nyc[\\/](?:index\.js|lib[\\/]wrap\.js|bin[\\/]nyc\.js)$/;

/**
 * nyc's own istanbul-lib-coverage (a dependency of nyc): from the nyc that runs this process — its index.js,
 * which its lib/wrap.js preloads, is in the module cache (nyc may be `npx nyc`, a global one, another
 * project's) — else from the project nyc runs in. When neither has it, one stderr line says the coverage is not
 * streamed: coverage.started was sent, and nothing else would tell why coverage.completed does not follow.
 */
function istanbulLib(cwd: string): { createCoverageMap(data: unknown): CoverageMap } | undefined {
  const from = [...Object.keys(createRequire(import.meta.url).cache), ...process.argv.slice(1)].filter(
    (file) => NYC_FILE.test(file),
  );
  try {
    from.push(createRequire(join(cwd, 'noop.js')).resolve('nyc/package.json'));
  } catch {
    // no nyc in the project
  }
  for (const file of from) {
    try {
      return createRequire(file)('istanbul-lib-coverage');
    } catch {
      // the next place
    }
  }
  warnOnce(
    `nyc's coverage is not streamed: its istanbul-lib-coverage was found neither beside the nyc that runs this process nor from ${cwd}`,
  );
  return undefined;
}

let warned = false;

function warnOnce(text: string): void {
  if (warned) return;
  warned = true;
  try {
    process.stderr.write(`testwire: ${text}\n`);
  } catch {
    // stderr closed
  }
}
