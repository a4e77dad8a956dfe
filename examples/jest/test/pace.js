// `pnpm demo` sets TESTWIRE_DEMO_PACE=1 so that this run lasts long enough (~20 s) to be watched live;
// without it (the repository's tests, CI) the tests take no longer than their own code does.
const paced = !['', '0', undefined].includes(process.env.TESTWIRE_DEMO_PACE);

/** Waits `ms` in the demo, not at all otherwise. */
const pace = (ms) => (paced ? new Promise((resolve) => setTimeout(resolve, ms)) : Promise.resolve());

module.exports = { paced, pace };
