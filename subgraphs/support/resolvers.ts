// Support subgraph resolvers: organizations and tickets mapped into canonical fields.

import { GraphQLError } from 'graphql';
import { ErrorCode } from '../../schema/errors.js';
import { enumMapping } from '../../schema/ownership.js';
import { bulkOutcome } from '../kit/batch-write.js';
import type { Resolvers } from './generated/types.js';

const plan = enumMapping('SupportPlan');
const ticketStatus = enumMapping('TicketStatus');

export const resolvers: Resolvers = {
  Mutation: {
    supportUpdateCustomer: async (_, { supportId, input, expectedVersion, idempotencyKey }, ctx) => {
      const organization: { organization_fields?: Record<string, unknown> } = {};
      if (input.supportPlan !== undefined) organization.organization_fields = { support_plan: input.supportPlan === null ? null : plan.toNative(input.supportPlan) };
      return ctx.connector.updateOrganization(supportId, organization, expectedVersion, idempotencyKey);
    },
    supportCreateTicket: async (_, { supportId, subject, body, idempotencyKey }, ctx) =>
      ctx.connector.createTicket({ organizationId: supportId, subject, body }, idempotencyKey),
    supportFindOrCreateOrganization: async (_, { input, externalId, idempotencyKey }, ctx) =>
      ctx.connector.findOrCreateOrganization(
        {
          name: input.organizationName,
          externalId,
          ...(input.domainNames ? { domainNames: input.domainNames } : {}),
          ...(input.supportPlan ? { organizationFields: { support_plan: plan.toNative(input.supportPlan) } } : {}),
        },
        idempotencyKey,
      ),
    supportSetCopies: async (_, { updates, idempotencyKey }, ctx) => {
      const results = await ctx.connector.updateManyOrganizations(
        updates.map((u) => ({ id: u.supportId, organization: u.organizationName != null ? { name: u.organizationName } : {} })),
        idempotencyKey,
      );
      return results.map((r, i) => ({ supportId: updates[i]!.supportId, ...bulkOutcome(r) }));
    },
    supportBulkUpdateCustomers: async (_, { updates, idempotencyKey }, ctx) => {
      const results = await ctx.connector.updateManyOrganizations(
        updates.map((u) => ({
          id: u.supportId,
          organization: u.input.supportPlan !== undefined ? { organization_fields: { support_plan: u.input.supportPlan === null ? null : plan.toNative(u.input.supportPlan) } } : {},
        })),
        idempotencyKey,
      );
      return results.map((r, i) => ({ supportId: updates[i]!.supportId, ...bulkOutcome(r) }));
    },
  },
  Customer: {
    __resolveReference: (ref, ctx) => (ref.supportId == null ? null : ctx.organizations.load(String(ref.supportId))),
    supportId: (o) => String(o.id),
    supportPlan: (o) => plan.toCanonical(o.organization_fields?.support_plan) as never,
    openTickets: (o) => o.openTickets,
    tickets: (o, { first }, ctx) => {
      const n = first ?? 10;
      if (n < 0 || n > 100) throw new GraphQLError('tickets(first:) must be between 0 and 100.', { extensions: { code: ErrorCode.BAD_USER_INPUT, system: 'support' } });
      return ctx.tickets(n).load(String(o.id));
    },
    supportVersion: (o) => o.updated_at,
  },
  Ticket: {
    __resolveReference: (ref, ctx) => ctx.ticketById.load(String(ref.id)),
    id: (t) => String(t.id),
    subject: (t) => t.subject,
    body: (t) => t.description,
    status: (t) => ticketStatus.toCanonical(t.status) as never,
    priority: (t) => t.priority,
    createdAt: (t) => t.created_at,
  },
};
