import { readFileSync } from 'node:fs';

/** `jest.retryTimes(3)` or `jest.retryTimes(3, {…})` with a literal count. */
const RETRY_TIMES = /\bjest\s*\.\s*retryTimes\s*\(\s*(\d+)\s*[,)]/g;

/**
 * How many times jest will retry a failed test of a file, as far as its source says.
 *
 * Jest does not tell reporters whether a failed attempt will be retried: `jest.retryTimes(n)` sets a global
 * in the worker that runs the file, out of a reporter's sight. So the count is read where users write it —
 * the test file and the project's `setupFilesAfterEnv` — as the largest literal `jest.retryTimes(n)`. With
 * it a failed attempt below the count is streamed as retrying (`willRetry`), not as a failure; the file's
 * result corrects any attempt that was not retried after all (a retryTimes call in a branch, a bail).
 * A count that is not a literal is not guessed: such failures show as failed until a retry supersedes them.
 */
export class RetryCounts {
  private readonly byPath = new Map<string, number>();
  /** Per test file, its count with the setup files it was computed with (one lookup per result). */
  private readonly byTestFile = new Map<
    string,
    { setupFiles: readonly string[] | undefined; count: number }
  >();

  /** Retries configured for tests of `file` (0 when none is written as a literal). */
  of(file: string | undefined, setupFiles: readonly string[] | undefined): number {
    const known = file === undefined ? undefined : this.byTestFile.get(file);
    if (known && known.setupFiles === setupFiles) return known.count;
    let count = file ? this.inFile(file) : 0;
    for (const path of setupFiles ?? []) count = Math.max(count, this.inFile(path));
    if (file !== undefined) this.byTestFile.set(file, { setupFiles, count });
    return count;
  }

  private inFile(path: string): number {
    const known = this.byPath.get(path);
    if (known !== undefined) return known;
    let count = 0;
    try {
      for (const match of readFileSync(path, 'utf8').matchAll(RETRY_TIMES))
        count = Math.max(count, Number(match[1]));
    } catch {
      // unreadable (a virtual module, a transform-only path): no retries known
    }
    this.byPath.set(path, count);
    return count;
  }
}
