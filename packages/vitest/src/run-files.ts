/**
 * What `test.started` (and `framework.detected`) say about the files of a Vitest run.
 *
 * Vitest runs a list of test specifications, one per (project, file): a file that two projects include is
 * run once per project, and Vitest counts it once per project (`Test Files  3 passed (3)` for two files, one
 * of them in both projects; its json reporter lists that file twice in `testResults`). So `testFiles` lists
 * each specification's file, in Vitest's order — a shared file once per project that runs it — and has
 * Vitest's count; the contract's `testFiles` are paths, with no place for a project, which
 * `options.projects` names instead (as @testwire/playwright does). Each project's tests are tests of their
 * own in the stream (their ids hold the project's name).
 */
import type { VitestContext, VitestTestSpecification } from './vitest-types.js';

/** The file of every specification of the run, a file that several projects run once per project. */
export function testFilesOf(specifications: ReadonlyArray<VitestTestSpecification> | undefined): string[] {
  return (specifications ?? []).map((spec) => spec.moduleId);
}

/** The names of the run's projects (`test.projects`), when any is named; undefined for a plain config. */
export function projectNamesOf(vitest: VitestContext): string[] | undefined {
  const names = (vitest.projects ?? []).map((project) => project.name).filter((name) => name !== '');
  return names.length > 0 ? names : undefined;
}

/**
 * The test file globs Vitest matches: those of each project (a config with `test.projects` matches its
 * projects' `include`, not the root's default), without repeats; the root's when there are no projects. With
 * `--typecheck`, the `typecheck.include` globs too (`*.test-d.ts`), and only those with `--typecheck.only`.
 */
export function testPatternsOf(vitest: VitestContext): string[] | undefined {
  const projects = vitest.projects ?? [];
  const configs = projects.length > 0 ? projects.map((project) => project.config) : [vitest.config];
  if (configs.some((config) => !Array.isArray(config?.include))) return undefined;
  const patterns = configs.flatMap((config) => {
    const typecheck = config?.typecheck?.enabled === true ? [...(config.typecheck.include ?? [])] : [];
    return config?.typecheck?.only === true ? typecheck : [...(config?.include ?? []), ...typecheck];
  });
  return [...new Set(patterns)];
}
