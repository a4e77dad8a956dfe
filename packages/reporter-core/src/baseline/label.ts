/**
 * A baseline's name and folder: what options are checked against on the runner's thread, which loads
 * nothing else of the baselines (file.ts brings the protocol's schema checks).
 */

/** The reference's folder, under the run's root. */
export const BASELINE_DIR = '.test-baselines';
/** A label is a file name: letters, digits, `.`, `_`, `-`; not starting with `.`; at most 100 characters. */
const LABEL = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,99}$/;

/** Why `label` cannot name a baseline, or undefined when it can. */
export function labelProblem(label: unknown): string | undefined {
  if (typeof label !== 'string' || label.length === 0) return 'a baseline label must be a non-empty string';
  if (!LABEL.test(label))
    return `baseline label ${JSON.stringify(label)} must be 1-100 letters, digits, ".", "_" or "-", not starting with "."`;
  return undefined;
}
