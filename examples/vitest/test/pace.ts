// `pnpm demo` sets TESTWIRE_DEMO_PACE=1 so that this run lasts long enough (~30 s) to be watched live;
// without it (the repository's tests, CI) the tests take no longer than their own code does.
export const paced = !['', '0', undefined].includes(process.env.TESTWIRE_DEMO_PACE);

/** Waits `ms` in the demo, not at all otherwise. */
export const pace = (ms: number): Promise<void> =>
  paced ? new Promise((resolve) => setTimeout(resolve, ms)) : Promise.resolve();
