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
  /** The HTTP request itself is malformed (not JSON, no query). */
  BAD_REQUEST: 'BAD_REQUEST',
  /** canon itself failed; the message says where. */
  INTERNAL_SERVER_ERROR: 'INTERNAL_SERVER_ERROR',
  /** The operation is past a query limit (tokens, depth, aliases or cost); `extensions.limit` names it. Nothing ran. */
  QUERY_TOO_COMPLEX: 'QUERY_TOO_COMPLEX',
  /** The request body is past the body limit (HTTP 413); it was not read to its end. */
  REQUEST_TOO_LARGE: 'REQUEST_TOO_LARGE',
  RATE_LIMITED: 'RATE_LIMITED',
  /** A workflow's precondition was false. */
  PRECONDITION_FAILED: 'PRECONDITION_FAILED',
  /**
   * canon runs only trusted documents (TRUSTED_DOCUMENTS) and this one is not listed: an unknown id or a text that is
   * not exactly a listed body (Apollo Router names the same refusal so). Unlike PERSISTED_QUERY_NOT_FOUND, sending
   * the full text next does not help, so Apollo's persisted-query link does not retry it.
   */
  PERSISTED_QUERY_NOT_IN_LIST: 'PERSISTED_QUERY_NOT_IN_LIST',
  // Apollo Server's own codes, named here because canon compares against them (what an idempotent answer may keep).
  /** The query text does not parse. */
  GRAPHQL_PARSE_FAILED: 'GRAPHQL_PARSE_FAILED',
  /** The query does not validate against the schema. */
  GRAPHQL_VALIDATION_FAILED: 'GRAPHQL_VALIDATION_FAILED',
  /** The document holds no operation by the name sent, or several and no name. */
  OPERATION_RESOLUTION_FAILURE: 'OPERATION_RESOLUTION_FAILURE',
  /** An automatic persisted query's hash is not known yet; the client sends the text next. */
  PERSISTED_QUERY_NOT_FOUND: 'PERSISTED_QUERY_NOT_FOUND',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];
