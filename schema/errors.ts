// The one enum of error codes canon puts in `extensions.code`, and the shape of canon's GraphQL errors.

export const ErrorCode = {
  BAD_USER_INPUT: 'BAD_USER_INPUT',
  NOT_FOUND: 'NOT_FOUND',
  FIELD_NOT_WRITABLE: 'FIELD_NOT_WRITABLE',
  NOT_OWNER: 'NOT_OWNER',
  STALE_WRITE: 'STALE_WRITE',
  SYSTEM_UNAVAILABLE: 'SYSTEM_UNAVAILABLE',
  SYSTEM_TIMEOUT: 'SYSTEM_TIMEOUT',
  SYSTEM_ERROR: 'SYSTEM_ERROR',
  CIRCUIT_OPEN: 'CIRCUIT_OPEN',
  IDEMPOTENCY_KEY_REUSED: 'IDEMPOTENCY_KEY_REUSED',
  IDEMPOTENCY_IN_PROGRESS: 'IDEMPOTENCY_IN_PROGRESS',
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  FORBIDDEN: 'FORBIDDEN',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Codes that mean "the system did not answer properly; the same request may succeed later". */
export const RETRYABLE_CODES: ReadonlySet<ErrorCode> = new Set([
  ErrorCode.SYSTEM_UNAVAILABLE,
  ErrorCode.SYSTEM_TIMEOUT,
  ErrorCode.CIRCUIT_OPEN,
  ErrorCode.IDEMPOTENCY_IN_PROGRESS,
]);
