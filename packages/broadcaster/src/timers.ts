/**
 * Waiting, bounded: testwire's one sleep and one deadline helper (`@testwire/broadcaster/timers`; the
 * reporters use it too — reporter-core inlines it at build, so loading it costs a runner nothing).
 */

/**
 * Resolves after `ms`. The timer is unref'd unless `ref`: a background retry must not keep the process
 * alive, while a short pause that a caller awaits (claiming a port) must not be cut short under it.
 */
export function sleep(ms: number, { ref = false }: { ref?: boolean } = {}): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    if (!ref) timer.unref();
  });
}

export const TIMED_OUT: unique symbol = Symbol('timed out');

/**
 * `promise`'s value, or TIMED_OUT once `deadline` (epoch ms) has passed, whichever comes first; a rejection
 * is passed on. The timer is unref'd unless `ref` (a caller that must get an answer before the process may
 * exit, as close() does) and cleared as soon as the promise settles.
 */
export function untilDeadline<T>(
  promise: Promise<T>,
  deadline: number,
  { ref = false }: { ref?: boolean } = {},
): Promise<T | typeof TIMED_OUT> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => resolve(TIMED_OUT), Math.max(0, deadline - Date.now()));
    if (!ref) timer.unref();
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

/**
 * Resolves when `promise` settles, fulfilled or rejected (true), or once `deadline` (epoch ms) has passed
 * (false). The timer is ref'd: the caller awaits it (close()) and must get an answer; it is bounded.
 */
export async function settledBy(promise: Promise<unknown>, deadline: number): Promise<boolean> {
  const settled = promise.then(
    () => true,
    () => true,
  );
  return (await untilDeadline(settled, deadline, { ref: true })) !== TIMED_OUT;
}
