/**
 * Where a reporter's internal errors go: nowhere by default (they never reach the runner), once per kind
 * on stderr with TESTWIRE_DEBUG.
 */
export function internalErrorReporter(debug: boolean): (where: string, error: unknown) => void {
  const reported = new Set<string>();
  return (where, error) => {
    if (!debug || reported.has(where)) return;
    reported.add(where);
    const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
    try {
      process.stderr.write(
        `testwire: internal error in ${where} (the test run is not affected): ${detail}\n`,
      );
    } catch {
      // stderr closed: nothing more we can do
    }
  };
}
