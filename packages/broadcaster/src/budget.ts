/**
 * The time budget of a run's final flush: one number, owned here, for every layer between a runner and the
 * owner's history. Also `@testwire/broadcaster/budget`, a module of its own that loads nothing else, so a
 * reporter can read the constant on the runner's thread without loading the server.
 *
 * Each layer above the broadcaster waits the budget plus a margin, so that the layer below answers first
 * (with what it could not confirm) rather than being cut off. The margins, innermost first:
 *
 *   layer                                     waits at most          where
 *   broadcaster flush()                       budget                 this package (Owner, JoinedBroadcaster)
 *   reporter-core Delivery.flush              budget + 250 ms        reporter-core delivery.ts, FLUSH_ANSWER_MARGIN_MS
 *   reporter-core, runner thread -> core      budget + 1 000 ms      reporter-core recorder.ts, SETTLE_MARGIN_MS
 *   @testwire/playwright onExit               budget + 1 500 ms      playwright reporter.ts, EXIT_MARGIN_MS
 *   @testwire/jest hold after onRunComplete   budget + 2 000 ms      jest reporter.ts, FLUSH_HOLD_MARGIN_MS
 *   @testwire/mocha done                      budget + 2 000 ms      mocha reporter.ts, DONE_MARGIN_MS
 *
 * The budget is a bound, not a wait: every layer goes on as soon as its events are confirmed. Only a run whose
 * endpoint cannot be reached (or answers nothing) waits it out.
 */

/**
 * The default bound of a final flush, in ms (reporter-core's `flushTimeoutMs`, env TESTWIRE_FLUSH_TIMEOUT, and
 * `Broadcaster.flush()` without an argument). A cold start under CPU starvation (three busy processes per core,
 * 2 vCPUs) — the core's thread starting, joining the endpoint and delivering a short run — took up to 2.9 s,
 * against 0.2 s on an idle machine: 10 s leaves a loaded CI machine three times that.
 */
export const FLUSH_BUDGET_MS = 10_000;
