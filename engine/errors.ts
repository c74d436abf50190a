// One error catalog. Codes are stable (tests pin the list): scripts and
// operators match on them, so a code is never renamed or reused. The exit
// code travels with the error so every CLI path exits the same way for the
// same failure.

export const ERRORS = {
  PE_USAGE: { exit: 2, title: 'bad command-line usage' },
  PE_BATCH_INPUT: { exit: 2, title: 'one or more input lines were rejected' },
  PE_CONFIG_READ: { exit: 78, title: 'configuration file cannot be read or parsed' },
  PE_CONFIG_INVALID: { exit: 78, title: 'configuration violates the schema' },
  PE_ENV_MISSING: { exit: 78, title: 'a required environment variable is not set' },
  PE_KEY_INVALID: { exit: 78, title: 'the private key cannot be used' },
  PE_INPUT_JSON: { exit: 65, title: 'input is not valid JSON' },
  PE_ORDER_FIELD: { exit: 65, title: 'an order field is missing or malformed' },
  PE_ORDER_PRICE_RANGE: { exit: 65, title: 'price outside [tick, 1 - tick]' },
  PE_ORDER_PRICE_TICK: { exit: 65, title: 'price is not on the tick grid' },
  PE_ORDER_SIZE_MIN: { exit: 65, title: 'size below the market minimum' },
  PE_ORDER_TICK: { exit: 65, title: 'unsupported tick size' },
  PE_ORDER_TYPE: { exit: 65, title: 'order type and flags do not fit together' },
  PE_ORDER_EXPIRATION: { exit: 65, title: 'GTD expiration missing or too soon' },
  PE_EXCHANGE_UNKNOWN: { exit: 65, title: 'no exchange contract for this version, chain and market kind' },
  PE_PACKET_TOO_SHORT: { exit: 65, title: 'relay packet shorter than its format' },
  PE_PACKET_BAD_MAGIC: { exit: 65, title: 'relay packet is neither legacy nor extended' },
  PE_PACKET_BAD_VERSION: { exit: 65, title: 'extended relay frame of an unknown version' },
  PE_PACKET_BAD_LENGTH: { exit: 65, title: 'extended relay frame of the wrong length' },
  PE_PACKET_BAD_VALUE: { exit: 65, title: 'relay packet carries a non-finite or negative value' },
  PE_PACKET_FIELDS: { exit: 70, title: 'packet field array too small' },
  PE_PACKET_OUT_TOO_SMALL: { exit: 70, title: 'packet output buffer too small' },
  PE_PACKET_BAD_FLAGS: { exit: 65, title: 'extended relay frame with a reserved flag bit set' },
  PE_CONTROL_AUTH: { exit: 77, title: 'control request without the right bearer token' },
  PE_CONTROL_REQUEST: { exit: 65, title: 'control request refused: unknown route, non-JSON content type or body too large' },
  PE_SNAPSHOT_INVALID: { exit: 65, title: 'a saved state snapshot does not match its schema' },
  PE_JOURNAL_CORRUPT: { exit: 74, title: 'the journal is corrupt before its tail, or its header is damaged' },
  PE_JOURNAL_OPEN: { exit: 74, title: 'the journal cannot be opened or created: empty path, a directory, a missing folder or no permission' },
  PE_JOURNAL_FOREIGN: { exit: 65, title: 'the journal path holds a file that is not a journal this build reads (it is left untouched)' },
  PE_IO: { exit: 74, title: 'a socket or file cannot be opened, bound, read or written' },
  PE_JOURNAL_UNSLOTTED: { exit: 65, title: 'the journal holds positions in no known market (written before market slots)' },
  PE_CLOB_REQUEST: { exit: 65, title: 'the CLOB refused the request as malformed (HTTP 400)' },
  PE_CLOB_AUTH: { exit: 77, title: 'the CLOB refused the credentials (HTTP 401): wrong API key, secret, passphrase or clock' },
  PE_CLOB_NOT_FOUND: { exit: 66, title: 'the CLOB has no such order or route (HTTP 404)' },
  PE_CLOB_NOT_READY: { exit: 75, title: 'the CLOB is not accepting requests yet (HTTP 425)' },
  PE_CLOB_RATE_LIMIT: { exit: 75, title: 'the CLOB rate limit held after the retries (HTTP 429)' },
  PE_CLOB_SERVER: { exit: 69, title: 'the CLOB failed (HTTP 5xx) after the retries' },
  PE_CLOB_HTTP: { exit: 76, title: 'the CLOB answered with an unexpected HTTP status' },
  PE_CLOB_RESPONSE: { exit: 76, title: 'the CLOB answer does not have the documented shape' },
  PE_CLOB_TIMEOUT: { exit: 75, title: 'a CLOB request timed out' },
  PE_CLOB_UNREACHABLE: { exit: 69, title: 'the CLOB cannot be reached (connection refused, reset or closed)' },
  PE_CLOB_REJECTED: { exit: 65, title: 'the CLOB answered but did not place or cancel every order' },
  PE_CLOB_UNCERTAIN: { exit: 75, title: 'an order POST may have landed and its lookup failed: check open orders before sending again' },
  PE_CLOB_HEARTBEAT_LOST: { exit: 75, title: 'no heartbeat reached the CLOB for longer than [live] heartbeat_fail_after_ms: the venue may have cancelled every open order' },
  PE_INTERNAL: { exit: 70, title: 'internal error' },
} as const satisfies Record<string, { exit: number; title: string }>;

export type ErrorCode = keyof typeof ERRORS;

export class PolyedgeError extends Error {
  readonly code: ErrorCode;
  /** Dotted path of the offending input (config key, order field), when there is one. */
  readonly field: string | undefined;
  readonly exitCode: number;

  constructor(code: ErrorCode, message: string, field?: string) {
    super(message);
    this.name = 'PolyedgeError';
    this.code = code;
    this.field = field;
    this.exitCode = ERRORS[code].exit;
  }

  /** `PE_ORDER_FIELD tokenId: must be a decimal integer` */
  format(): string {
    return `${this.code} ${this.message}`;
  }
}

/** Field-scoped error whose message starts with the field path. */
export function fieldError(code: ErrorCode, field: string, reason: string): PolyedgeError {
  return new PolyedgeError(code, `${field}: ${reason}`, field);
}

/**
 * Any thrown value as a catalogued error. An operating-system error (it has
 * an errno and a syscall: EACCES, EADDRINUSE, ENOSPC...) is the machine's or
 * the user's, not a bug of ours: PE_IO, never PE_INTERNAL.
 */
export function asPolyedgeError(err: unknown): PolyedgeError {
  if (err instanceof PolyedgeError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new PolyedgeError(isSystemError(err) ? 'PE_IO' : 'PE_INTERNAL', message);
}

/** An error raised by a system call (node's SystemError shape). */
export function isSystemError(err: unknown): err is NodeJS.ErrnoException & { code: string; syscall: string } {
  return err instanceof Error && typeof (err as NodeJS.ErrnoException).code === 'string' && typeof (err as NodeJS.ErrnoException).syscall === 'string';
}
