// Tests that need something a machine may lack (a build, a browser, a tool): skipped on a
// developer's machine without it, but never silently under CI, where a skip would hide that
// the test did not run.

/** True when the `CI` environment variable is set (to anything but empty, `0` or `false`). */
export function isCi(env: NodeJS.ProcessEnv = process.env): boolean {
  const value = (env.CI ?? '').trim().toLowerCase();
  return value !== '' && value !== '0' && value !== 'false';
}

/**
 * The `skip` option of a test that needs something: `false` when nothing is missing; the
 * reason when something is, outside CI. Under CI a missing prerequisite throws, so the test
 * file fails with the reason instead of skipping.
 */
export function skipUnlessCi(
  missing: string | false | undefined,
  env: NodeJS.ProcessEnv = process.env,
): string | false {
  if (missing === false || missing === undefined) return false;
  if (isCi(env)) {
    throw new Error(`${missing} (CI is set: a missing prerequisite fails, it is not skipped)`);
  }
  return missing;
}
