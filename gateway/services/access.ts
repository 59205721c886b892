// Who may call a subgraph served on its own (`canon subgraph NAME`), and what each caller may do there.
//
// Where authentication and scopes are enforced, by who sits in front:
// - canon's gateway: it authenticates the app, applies its rate and its scopes at plan time (field-filter.ts), and
//   calls each subgraph service with `Authorization: Bearer <CANON_SERVICE_TOKEN>`, naming the app and its scopes
//   in canon-app / canon-scopes. A subgraph takes that identity as given: the gateway already decided.
// - another router (Hive Gateway, Apollo Router) forwarding the caller's `Authorization`: each subgraph service
//   verifies the app's key or JWT itself (the same app store and key set as the gateway), then
//   · identity answers any authenticated app (its fields need no scope beyond a valid app);
//   · a system subgraph answers a query only for an app holding its `read:<system>`, else FORBIDDEN, so none of
//     that system's fields is read; its own mutations (@inaccessible, canon's write steps) only for canon's services;
//   · control applies canon's whole scope rules (gateway/security/scopes.ts) to the operation, as the gateway does:
//     a write lacking any write scope is refused whole, an unreadable field is null with FORBIDDEN; and a mutation
//     sent with an Idempotency-Key is replayed, refused or run once, from the same store canon's gateways use.
// Guarantee: without the service token or a valid app credential
// the answer is 401 UNAUTHENTICATED and no resolver runs.

import { createHash, timingSafeEqual } from 'node:crypto';
import { execute, getOperationAST, GraphQLError, type ExecutionResult } from 'graphql';
import type { GatewayExecutor, GatewayGraphQLRequestContext } from '@apollo/server-gateway-interface';
import { ErrorCode } from '../../schema/errors.js';
import { SYSTEMS, type SystemName } from '../../schema/model.js';
import { readScopeOf } from '../../schema/ownership.js';
import type { SubgraphAccess } from '../../subgraphs/kit/server.js';
import type { SubgraphName } from '../config.js';
import { CONTEXT_HEADERS, type Caller } from '../federation/context.js';
import type { Authenticator } from '../security/authenticate.js';
import { scopedExecutor } from '../security/field-filter.js';
import { holds, parseScopes, type ScopeRules } from '../security/scopes.js';
import { answerIdempotently, isMutation } from '../http/idempotent.js';
import type { IdempotencyStore } from '../operations/idempotency.js';
import type { Ledger } from '../operations/ledger.js';

export interface AccessOptions {
  /** The subgraph served. */
  name: SubgraphName;
  /** CANON_SERVICE_TOKEN: what canon's own services present. */
  serviceToken: string | undefined;
  /** Verifies an app's key or JWT, as the gateway does. */
  authenticator: Authenticator;
  /** The supergraph's scope rules, for the control subgraph. */
  rules?: ScopeRules;
  /**
   * For the control subgraph: where keyed mutations of apps calling through another router are replayed from, as
   * canon's gateway replays them (gateway/http/idempotent.ts), and the ledger that says whether a run may continue.
   */
  idempotency?: { store: IdempotencyStore; ledger: Ledger };
}

/** Constant-time comparison of a presented token with the service token (digests, so lengths never differ). */
function sameToken(presented: string, token: string): boolean {
  const a = createHash('sha256').update(presented).digest();
  const b = createHash('sha256').update(token).digest();
  return timingSafeEqual(a, b);
}

const header = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v[0] : v);

function forbidden(message: string, extensions: Record<string, unknown>): ExecutionResult {
  return { data: null, errors: [new GraphQLError(message, { extensions: { code: ErrorCode.FORBIDDEN, ...extensions } })] };
}

/** The access rule of subgraph `opts.name`; see the top of this file. */
export function subgraphAccess(opts: AccessOptions): SubgraphAccess {
  const system = (SYSTEMS as readonly string[]).includes(opts.name) ? (opts.name as SystemName) : null;
  return {
    async admit(headers) {
      const authorization = header(headers.authorization);
      const bearer = authorization?.match(/^Bearer\s+(.+)$/i)?.[1];
      if (opts.serviceToken && bearer && sameToken(bearer, opts.serviceToken)) {
        // Scopes named by canon's own gateway are canon's; anything else in the header is dropped, not trusted.
        const named = (header(headers[CONTEXT_HEADERS.scopes]) ?? '').split(' ').filter(Boolean);
        const parsed = parseScopes(named.filter((s) => parseScopes([s]).ok));
        const scopes = new Set(parsed.ok ? parsed.scopes : []);
        const caller: Caller = { kind: 'service', app: header(headers[CONTEXT_HEADERS.app]) ?? null, scopes };
        return { ok: true, caller };
      }
      const auth = await opts.authenticator.authenticate(authorization);
      if (!auth.ok) {
        const challenge = auth.missing ? 'Bearer realm="canon"' : 'Bearer realm="canon", error="invalid_token"';
        return { ok: false, status: 401, code: ErrorCode.UNAUTHENTICATED, message: `${opts.name} subgraph: ${auth.message}`, headers: { 'www-authenticate': challenge } };
      }
      const caller: Caller = { kind: 'app', app: auth.app.name, scopes: auth.app.scopes };
      return { ok: true, caller };
    },

    async execute({ schema, document, variables, operationName, contextValue, caller }) {
      const run = () => execute({ schema, document, variableValues: variables, operationName, contextValue }) as Promise<ExecutionResult>;
      const who = caller as Caller;
      if (who.kind === 'service') return run();
      const op = getOperationAST(document, operationName);
      if (!op) return run();
      if (opts.name === 'control') return controlAsApp(opts.rules!, { schema, document, variables, operationName, contextValue });
      if (op.operation !== 'query') {
        return forbidden(`The ${opts.name} subgraph's own mutations are canon's write steps; apps write through canon's canonical mutations (updateCustomer, …).`, system ? { system } : {});
      }
      if (system) {
        const scope = readScopeOf(system)!;
        if (!holds(who.scopes, scope)) {
          return forbidden(`The app "${who.app}" may not read ${system}'s fields: it needs the scope ${scope}.`, { system, scope });
        }
      }
      return run();
    },

    // Behind another router the control service is the first of canon to see a keyed write: it replays, refuses
    // or runs it once, as canon's gateway does. Behind canon's gateway the gateway already has.
    async respond({ res, body, headers, caller, run }) {
      const who = caller as Caller;
      const key = header(headers[CONTEXT_HEADERS.key]);
      if (!opts.idempotency || who.kind !== 'app' || key === undefined || !isMutation(body)) return false;
      await answerIdempotently(res, body, key, (_key, resume) => run({ ...who, resume }), { ...opts.idempotency, app: who.app });
      return true;
    },
  };
}

/** The control subgraph's operation under canon's scope rules, through the same executor wrapper the gateway uses. */
async function controlAsApp(rules: ScopeRules, req: { schema: Parameters<typeof execute>[0]['schema']; document: Parameters<typeof execute>[0]['document']; variables: Record<string, unknown> | undefined; operationName: string | undefined; contextValue: unknown }): Promise<ExecutionResult> {
  const inner: GatewayExecutor = async (ctx) =>
    (await execute({ schema: ctx.schema, document: ctx.document, variableValues: ctx.request.variables, operationName: ctx.request.operationName, contextValue: ctx.context })) as never;
  const scoped = scopedExecutor(inner, { rules });
  const source = req.document.loc?.source.body ?? '';
  const ctx = {
    schema: req.schema,
    document: req.document,
    operation: getOperationAST(req.document, req.operationName),
    request: { variables: req.variables, operationName: req.operationName },
    queryHash: createHash('sha256').update(source).digest('hex'),
    context: req.contextValue,
  } as unknown as GatewayGraphQLRequestContext;
  return (await scoped(ctx)) as ExecutionResult;
}
