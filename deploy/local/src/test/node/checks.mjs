// What sdk.test.mjs and playground.test.mjs share: checks registered in order and run one after another, each
// reported on a line of its own ("ok - name" or "not ok - name: why"), which the Java tests that run them count
// (Commands.nodeChecks in deploy/local); the process exits non-zero when any failed.
const checks = [];

/** Registers a check: an async function that throws (an assertion, say) when the check fails. */
export function check(name, fn) {
  checks.push({ name, fn });
}

/** Runs every registered check, then `cleanup` (closing a browser, say), prints the tally and exits. */
export async function runChecks(cleanup = async () => {}) {
  let failed = 0;
  for (const { name, fn } of checks) {
    try {
      await fn();
      console.log(`ok - ${name}`);
    } catch (e) {
      failed++;
      console.log(`not ok - ${name}: ${e?.stack ?? e}`);
    }
  }
  await cleanup();
  console.log(`${checks.length - failed} of ${checks.length} checks passed`);
  process.exit(failed ? 1 : 0);
}
