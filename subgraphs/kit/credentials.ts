// How canon presents itself to each system: the credentials each product takes, and the Authorization header each expects them in.
//
// Guarantee: a credential only ever leaves this module as the value of an Authorization header; nothing here logs,
// prints or puts one in an error.

import type { SystemName } from '../../schema/model.js';

/** One system's credentials, in the shape its product issues them. */
export interface SystemCredentials {
  /** HubSpot: a private-app access token, sent as `Authorization: Bearer <token>` (`CRM_TOKEN`). */
  crm: { token: string };
  /** An SAP-style OData service: a communication user and its password, sent as HTTP basic (`ERP_USER`, `ERP_PASSWORD`). */
  erp: { user: string; password: string };
  /** Mailchimp: an API key, sent as the password of HTTP basic with any user name (`MARKETING_API_KEY`). */
  marketing: { apiKey: string };
  /** Zendesk: an agent's email and an API token, sent as HTTP basic `<email>/token:<token>` (`SUPPORT_EMAIL`, `SUPPORT_TOKEN`). */
  support: { email: string; token: string };
}

/** Every system's credentials: what DATA_DIR/sandbox-credentials.json holds, and what the connectors are given. */
export type AllSystemCredentials = { [S in SystemName]: SystemCredentials[S] };

/** An HTTP basic Authorization value (RFC 7617): base64 of `user:password`, UTF-8. */
export function basicAuthorization(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`;
}

/** Mailchimp ignores the user name of basic auth; canon sends its own name there. */
const MAILCHIMP_USER = 'canon';

/** The Authorization header value each system expects for its credentials. */
export const authorizationFor: { [S in SystemName]: (c: SystemCredentials[S]) => string } = {
  crm: (c) => `Bearer ${c.token}`,
  erp: (c) => basicAuthorization(c.user, c.password),
  marketing: (c) => basicAuthorization(MAILCHIMP_USER, c.apiKey),
  support: (c) => basicAuthorization(`${c.email}/token`, c.token),
};
