/**
 * Whether Jest stopped the run because `bail` was reached (test.completed `interrupted`, `interruptedBy: 'bail'`).
 *
 * Jest checks after each file's result (TestScheduler `_bailIfNeeded`, jest 29 and 30): once the run's failed
 * tests reach `bail`, outside watch mode it calls the reporters' onRunComplete from there and exits, the files
 * still running or queued left unreported (in watch mode it interrupts the run instead: `wasInterrupted`). A
 * run whose failures reached `bail` with its last file was not cut short: every file reported.
 */
export function bailed(
  config: { bail?: number; watch?: boolean; watchAll?: boolean } | undefined,
  numFailedTests: number | undefined,
): boolean {
  if (!config?.bail || config.watch || config.watchAll) return false;
  return typeof numFailedTests === 'number' && numFailedTests >= config.bail;
}
