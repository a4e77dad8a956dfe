import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CONFIG_EXTENSIONS, configAt, isFile } from './config.js';

/** What a jest `ProjectConfig` carries that tells projects apart (identical in jest 29 and 30). */
export interface JestProjectConfig {
  /** Jest's own key of the project (see `indexOf`): unique per project of the run. */
  id?: string;
  displayName?: { name?: string } | string;
  rootDir?: string;
}

/**
 * The name of each jest project in the stream (the `project` of its tests, part of their ids): unique among
 * the run's projects, the same in every run of the same config.
 *
 * A project's `displayName` when no other project in `projects` has that name — so a single project, and
 * projects named apart, keep the ids their tests always had; else the name with the project's position among
 * its namesakes in `projects`, as the Playwright reporter names them: `unit#1`, `unit#2`; `#1`, `#2` for
 * projects without a name. Without it two projects of one name that take one test file would give each of its
 * tests one id, and the stream would hold half the tests jest reports. Positions are in `projects` as
 * configured, not among the projects a run selects (`--selectProjects`): a project keeps its name.
 *
 * Jest tells a reporter no list of the run's projects; its global config keeps `projects` as written (globs
 * expanded): inline configs with their `displayName`, and paths, whose config is read here only when jest
 * left it readable (JSON, `package.json`'s `jest`, a CommonJS module in the module cache: config.ts). A path
 * project whose config is an ES module, TypeScript or a function is not known by name: it shares none.
 * Which entry a project started is found from its `id`, which jest-config derives from the project's
 * `rootDir`, its config file and its position in `projects` (`normalize`: sha1 of the three, 32 hex digits);
 * a project with an `id` of its own in its config is known by its `displayName`, and its `id` if that is taken
 * (`unit#<id>`).
 */
export class ProjectNames {
  /** `projects` as jest-config reads them: path entries that are files without a config extension dropped. */
  private readonly entries: readonly unknown[];
  /** Per entry, its `displayName` once read (null: none; false: not readable; undefined: not read yet). */
  private readonly names: (string | null | false | undefined)[] = [];
  private readonly byId = new Map<string, string | undefined>();

  /** @param projects the global config's `projects` (jest 29 and 30: inline configs and absolute paths). */
  constructor(projects: readonly unknown[] | undefined) {
    this.entries = (projects ?? []).filter(
      (entry) =>
        typeof entry !== 'string' || !isFile(entry) || CONFIG_EXTENSIONS.some((ext) => entry.endsWith(ext)),
    );
  }

  /** The stream's name of the project with `config`: undefined for a project without a name (the package's). */
  of(config: JestProjectConfig | undefined): string | undefined {
    const name = displayNameOf(config?.displayName);
    // One project (no `projects`): no namesake.
    if (this.entries.length < 2 || typeof config?.id !== 'string') return name;
    if (this.byId.has(config.id)) return this.byId.get(config.id);
    const index = this.indexOf(config.id, config.rootDir ?? '');
    // Its own entry counts by the name jest gave it (a preset may name a project its entry does not); not
    // found, it is among the entries of its name.
    let others = 0;
    let position = 1;
    for (let other = 0; other < this.entries.length; other++) {
      if (other === index || this.nameAt(other) !== (name ?? null)) continue;
      others++;
      if (index !== undefined && other < index) position++;
    }
    const namesakes = index === undefined ? Math.max(1, others) : others + 1;
    // Not found by its `id`: one of the user's own (unique, as jest needs) tells it from its namesakes.
    const named = namesakes < 2 ? name : `${name ?? ''}#${index === undefined ? config.id : position}`;
    this.byId.set(config.id, named);
    return named;
  }

  /** The position in `projects` of the project jest gave `id` (see the class comment), if it is jest's own. */
  private indexOf(id: string, rootDir: string): number | undefined {
    for (let index = 0; index < this.entries.length; index++) {
      for (const configPath of configPathsOf(this.entries[index])) {
        const hash = createHash('sha1').update(rootDir).update(configPath).update(String(index));
        if (hash.digest('hex').slice(0, 32) === id) return index;
      }
    }
    return undefined;
  }

  /**
   * The `displayName` of entry `index`: null for none, false when its config is not readable here (then it
   * is no project's namesake, not even of one without a name).
   */
  private nameAt(index: number): string | null | false {
    let name = this.names[index];
    if (name === undefined) {
      const entry = this.entries[index];
      const config = typeof entry === 'string' ? configAt(configPathsOf(entry)[0] ?? '') : entry;
      name =
        typeof config === 'object' && config !== null
          ? (displayNameOf((config as JestProjectConfig).displayName) ?? null)
          : false;
      this.names[index] = name;
    }
    return name;
  }
}

/** A `displayName` as jest keeps it (`{ name, color }`) or as written (a string). */
export function displayNameOf(displayName: JestProjectConfig['displayName']): string | undefined {
  return typeof displayName === 'string' ? displayName : displayName?.name;
}

/**
 * The config files jest may have read a `projects` entry from, first the one it reads first: '' for an inline
 * config (jest-config hashes no path then); the file a path names; in a directory, `jest.config.<ext>` in
 * jest's order, then `package.json`.
 */
function configPathsOf(entry: unknown): string[] {
  if (typeof entry !== 'string') return [''];
  // A relative entry (written without <rootDir>) is resolved from the working directory, as jest-config does.
  const path = resolve(entry);
  if (isFile(path)) return [path];
  const paths = CONFIG_EXTENSIONS.map((ext) => join(path, `jest.config${ext}`)).filter(existsSync);
  const manifest = join(path, 'package.json');
  if (existsSync(manifest)) paths.push(manifest);
  return paths;
}
