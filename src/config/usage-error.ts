/**
 * A problem with what the user gave meshctl (a flag, a file that cannot be read, a config that cannot be served as
 * asked), as opposed to a bug in meshctl. The CLI prints its message as `meshctl: message`, without a stack trace, and
 * exits 2; that mapping lives in one place, src/cli/errors.ts. It is declared here, in the bottom layer, so that every
 * layer can throw it. Subclasses exist only where a caller branches on them (ConfigReadError, DataSourceError, …).
 */
export class UsageError extends Error {
  override name = 'UsageError';
}

/**
 * A config that validates but that `meshctl run` cannot serve as written (an HTTP filter setting it does not
 * enforce, a filter order Envoy refuses): refused at start-up with its place in the config, and exit status 1 (a
 * config error), not 2.
 */
export class ConfigRefusedError extends UsageError {
  override name = 'ConfigRefusedError';
}
