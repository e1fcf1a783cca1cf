/**
 * A problem with what the user gave meshctl (a flag, a file that cannot be read, a config that cannot be served as
 * asked), as opposed to a bug in meshctl. The CLI prints its message as `meshctl: message`, without a stack trace, and
 * exits 2; that mapping lives in one place, src/cli/errors.ts. It is declared here, in the bottom layer, so that every
 * layer can throw it. Subclasses exist only where a caller branches on them (ConfigReadError, DataSourceError, …).
 */
export class UsageError extends Error {
  override name = 'UsageError';
}
