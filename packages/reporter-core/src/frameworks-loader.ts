/**
 * Framework detection (`testwire detect`, the CLI's): frameworks.ts as a build file of its own,
 * dist/frameworks.cjs, loaded on first use, from both builds (through `require`: the CLI calls it
 * synchronously). No reporter calls it, and the runner's thread compiles all the entry holds when it loads the
 * reporter (on its critical path, budget B2 of issue 13).
 */
import { requireBuilt } from './built-file.js';

type Frameworks = typeof import('./frameworks.js');

let loaded: Frameworks | undefined;

export const detectFrameworks: Frameworks['detectFrameworks'] = (dir) => {
  loaded ??= requireBuilt<Frameworks>('frameworks.cjs');
  return loaded.detectFrameworks(dir);
};
