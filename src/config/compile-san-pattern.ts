// Compiles deviceIdentity.sanPattern, the expression that finds the Fleet host UUID in a device
// certificate's URI SAN. The config check and the runtime that reads certificates both call it.

/** Compiles the configured SAN pattern; throws if it is not a valid expression or lacks a `uuid` group. */
export function compileSanPattern(source: string): RegExp {
  let pattern: RegExp;
  try {
    pattern = new RegExp(source);
  } catch (error) {
    throw new Error(`deviceIdentity.sanPattern is not a valid regular expression: ${(error as Error).message}`, {
      cause: error,
    });
  }
  // Parsing the source for "(?<uuid>" would be fooled by escapes; the engine reports its own groups.
  const groups = new RegExp(`${source}|`).exec('')?.groups;
  if (groups === undefined || !('uuid' in groups)) {
    throw new Error('deviceIdentity.sanPattern must contain a named group (?<uuid>...) capturing the Fleet host UUID');
  }
  return pattern;
}
