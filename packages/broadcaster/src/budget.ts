/**
 * The time budget of a run's final flush: one number, owned here, for every layer between a runner and the
 * owner's history. Also `@testwire/broadcaster/budget`, a module of its own that loads nothing else, so a
 * reporter can read the constant on the runner's thread without loading the server.
 *
 * Each layer above the broadcaster waits the budget plus a margin, so that the layer below answers first
 * (with what it could not confirm) rather than being cut off. The margins, innermost first:
 *
 *   layer                                       waits at most                      where
 *   broadcaster flush()                         budget                             Owner, JoinedBroadcaster
 *   reporter-core Delivery.flush                budget + FLUSH_MARGIN_MS.delivery  reporter-core delivery.ts
 *   reporter-core, runner thread -> core        budget + FLUSH_MARGIN_MS.settle    reporter-core recorder.ts
 *   adapters (jest hold after onRunComplete,    budget + FLUSH_MARGIN_MS.adapter   ReporterCore.holdBoundMs
 *   mocha done, playwright onExit)
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

/** What each layer above the broadcaster adds to the budget, innermost first (the table above). */
export const FLUSH_MARGIN_MS = { delivery: 250, settle: 1_000, adapter: 2_000 } as const;
