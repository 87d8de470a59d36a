// Keeps oidc-provider's start-up notices out of the demo's (and the tests') console.

const PROVIDER_NOTICE = /^(\x1b\[[\d;]*m)?oidc-provider (WARNING|NOTICE):/;

/**
 * Runs `fn` with oidc-provider's start-up notices (unsupported runtime, dev defaults) muted.
 * The demo's provider and the tests' provider both start oidc-provider through it.
 */
export async function withoutProviderNotices<T>(fn: () => T | Promise<T>): Promise<T> {
  const { warn, info } = console;
  const filter =
    (log: (...args: unknown[]) => void) =>
    (...args: unknown[]) => {
      if (!PROVIDER_NOTICE.test(String(args[0]))) log(...args);
    };
  console.warn = filter(warn);
  console.info = filter(info);
  try {
    return await fn();
  } finally {
    console.warn = warn;
    console.info = info;
  }
}
