/** Exit codes of `autopilot` (documented in docs/models.md). */
export const EXIT = {
  ok: 0,
  /** Unexpected failure (a bug): the message and stack are printed. */
  internal: 1,
  /** Bad command line: unknown command or option, missing argument. */
  usage: 2,
  /** The input was refused: a model reference, a model's files, an option value. */
  input: 3,
  /** A service failed or refused: the registry, the store, the gateway, the cluster (unreachable, 401/403, 5xx). */
  service: 4,
  /** `invoke`: the endpoint answered with an error status (its body is printed). */
  endpointError: 5,
} as const;

/** An error that maps to an exit code. */
export class CliError extends Error {
  readonly code: number;
  constructor(code: number, message: string) {
    super(message);
    this.code = code;
  }
}
