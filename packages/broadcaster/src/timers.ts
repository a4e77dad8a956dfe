/** Waiting, bounded: the package's one sleep and one deadline helper. */

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

/**
 * Resolves when `promise` settles (true) or once `deadline` (epoch ms) has passed (false), whichever comes
 * first. The timer is ref'd on purpose: the caller awaits it (close()) and must get an answer; it is bounded.
 */
export function settledBy(promise: Promise<unknown>, deadline: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), Math.max(0, deadline - Date.now()));
  });
  const settled = promise.then(
    () => true,
    () => true,
  );
  return Promise.race([settled, timedOut]).finally(() => clearTimeout(timer));
}
