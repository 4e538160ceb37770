/**
 * Waiting in tests: timeouts, polling, sleeping. No dependencies.
 *
 * @module
 */

/** Rejects with `what` if `p` takes longer than `ms`. */
export async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)),
          ms,
        );
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Polls `check` every 50 ms until it returns true; throws after `ms`, naming `what` (a function
 * is called then, so the message can say how far it got).
 */
export async function waitFor(
  check: () => boolean | Promise<boolean>,
  ms: number,
  what: string | (() => string),
) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return;
    await sleep(50);
  }
  throw new Error(
    `timed out after ${ms} ms waiting for ${typeof what === "string" ? what : what()}`,
  );
}

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
