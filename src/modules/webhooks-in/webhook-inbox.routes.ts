// Operator API for the inbound webhook inbox: list (filters, newest first, cursor pages), one event
// with its payload and last error, and replay by id or by status (dead or failed) within a received
// window. Reads need `payment:read`, replay `payment:configure`; every replay is audited. A pending row
// already has its job, so a replay by id of one replays nothing (`replayed: 0`).
import { invalidParam, resourceMissing } from '../../http/errors.js';
import { originOf, type Router } from '../../http/route.js';
import { inboxListInput, inboxReplayInput, toDate, toInboxObject } from './webhook-inbox.js';
import type { WebhookInboxService } from './webhook-inbox.service.js';

const LIST_URL = '/admin/webhooks/inbound';

function checkWindow(from: number | undefined, to: number | undefined): void {
  if (from !== undefined && to !== undefined && from >= to) {
    throw invalidParam('to', `to must be after from (got from=${from}, to=${to})`);
  }
}

export function registerInboundWebhookRoutes(router: Router, inbox: WebhookInboxService): void {
  const tags = ['Webhooks'];
  router.operator({
    method: 'GET',
    url: LIST_URL,
    summary: 'Inbound provider webhooks in the inbox, newest first',
    tags,
    permission: 'payment:read',
    input: inboxListInput,
    handler: async ({ input }) => {
      checkWindow(input.from, input.to);
      const page = await inbox.list(
        {
          provider: input.provider,
          status: input.status,
          type: input.type,
          from: toDate(input.from),
          to: toDate(input.to),
        },
        { limit: input.limit ?? 10, startingAfter: input.starting_after },
      );
      if (!page) throw resourceMissing('inbound webhook', input.starting_after ?? '', 'starting_after');
      return {
        object: 'list',
        data: page.rows.map((row) => toInboxObject(row)),
        has_more: page.hasMore,
        url: LIST_URL,
      };
    },
  });
  router.operator({
    method: 'GET',
    url: `${LIST_URL}/:id`,
    summary: 'One inbound webhook with its payload and last processing error',
    tags,
    permission: 'payment:read',
    params: { id: inboxListInput.starting_after.unwrap() },
    handler: async ({ params }) => {
      const row = await inbox.find(params.id);
      if (!row) throw resourceMissing('inbound webhook', params.id, 'id');
      return toInboxObject(row, true);
    },
  });
  router.operator({
    method: 'POST',
    url: `${LIST_URL}/replay`,
    summary: 'Process inbound webhooks again: one by id, or every dead (or failed) one in a window',
    tags,
    // The lead switches this to `webhook:operate` when the outbound branch's permission lands.
    permission: 'webhook:operate',
    input: inboxReplayInput,
    handler: async ({ input, operator, info }) => {
      if (
        input.id !== undefined &&
        (input.status !== undefined || input.from !== undefined || input.to !== undefined)
      ) {
        throw invalidParam('id', 'give either id, or status with an optional from and to, not both');
      }
      if (input.id === undefined && input.status === undefined) {
        throw invalidParam('status', "give an id, or a status to replay ('dead' or 'failed')");
      }
      checkWindow(input.from, input.to);
      if (input.id !== undefined && !(await inbox.find(input.id))) {
        throw resourceMissing('inbound webhook', input.id, 'id');
      }
      const replayed = await inbox.replay(
        { id: input.id, status: input.status, from: toDate(input.from), to: toDate(input.to) },
        { type: 'operator', id: operator.operatorId },
        originOf(info),
      );
      return { object: 'replay', replayed };
    },
  });
}
