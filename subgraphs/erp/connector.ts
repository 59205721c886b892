// The only code that talks to the ERP (an OData v4 business-partner service, SAP-style): batched partner reads.

import DataLoader from 'dataloader';
import { ErrorCode } from '../../schema/errors.js';
import { holds, SystemClient, type ConnectorOptions } from '../kit/system-client.js';
import { SystemError } from '../kit/system-error.js';

/** A business partner as the ERP returns it, with its OData ETag. */
export interface ErpPartner {
  BusinessPartner: string;
  '@odata.etag': string;
  BusinessPartnerName: string | null;
  TaxNumber: string | null;
  StreetName: string | null;
  AdditionalStreetName: string | null;
  CityName: string | null;
  PostalCode: string | null;
  Country: string | null;
  PaymentTerms: string | null;
  CreditLimitAmount: string | null;
  OpenBalanceAmount: string | null;
  Currency: string | null;
  CentralBlockReason: string | null;
}

export interface ErpContext {
  partners: DataLoader<string, ErpPartner | null>;
  connector: ErpConnector;
}

export const ERP_SELECT = [
  'BusinessPartner', 'BusinessPartnerName', 'TaxNumber', 'StreetName', 'AdditionalStreetName', 'CityName',
  'PostalCode', 'Country', 'PaymentTerms', 'CreditLimitAmount', 'OpenBalanceAmount', 'Currency', 'CentralBlockReason',
] as const;

export interface ErpConnectorOptions extends ConnectorOptions {
  /** Most ids in one `$filter=BusinessPartner in (...)`. Default: no limit (the query goes in the body, so URL length is no bound). */
  maxBatchSize?: number;
}

/** OData string literal: single quotes doubled. */
function odataString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

export class ErpConnector {
  readonly client: SystemClient;
  private readonly maxBatchSize: number;

  constructor(opts: ErpConnectorOptions) {
    this.client = new SystemClient({ ...opts, system: 'erp' });
    this.maxBatchSize = opts.maxBatchSize ?? Infinity;
  }

  createContext(): ErpContext {
    return { partners: new DataLoader((ids) => this.batchRead(ids), { maxBatchSize: this.maxBatchSize }), connector: this };
  }

  /**
   * One OData 4.01 `$query` call (query options in the body) for all ids: a GET with a thousand ids in `$filter`
   * would outgrow the URL limits of most gateways in front of an ERP.
   */
  async batchRead(ids: readonly string[]): Promise<(ErpPartner | null)[]> {
    const options = new URLSearchParams({
      $filter: `BusinessPartner in (${ids.map(odataString).join(',')})`,
      $select: ERP_SELECT.join(','),
    });
    const res = await this.client.request<{ value: ErpPartner[] }>({
      method: 'POST',
      path: '/odata/v4/BusinessPartners/$query',
      body: options.toString(),
      contentType: 'text/plain',
      retry: true,
    });
    const byId = new Map(res.body.value.map((p) => [p.BusinessPartner, p]));
    return ids.map((id) => byId.get(id) ?? null);
  }

  /**
   * PATCHes one business partner under the ERP's own precondition: If-Match with the ETag the app read, so the ERP
   * itself refuses (412) a write over a newer change; no lock is needed. Without a version, `If-Match: *`.
   * With `idempotencyKey` the PATCH is retried; a 412 then may be our own earlier attempt that landed before its
   * answer was lost, so the partner is read back and accepted when it already holds exactly what this write sets.
   */
  async updatePartner(id: string, properties: Partial<ErpPartner>, expectedVersion?: string | null, idempotencyKey?: string | null): Promise<ErpPartner> {
    const path = `/odata/v4/BusinessPartners(${encodeURIComponent(odataString(id))})`;
    try {
      const res = await this.client.request<ErpPartner>({
        method: 'PATCH',
        path,
        body: properties,
        headers: { 'if-match': expectedVersion || '*', prefer: 'return=representation' },
        retry: Boolean(idempotencyKey),
        idempotencyKey,
      });
      return res.body;
    } catch (e) {
      if (!(idempotencyKey && e instanceof SystemError && e.code === ErrorCode.STALE_WRITE)) throw e;
      const current = await this.client.request<ErpPartner>({ method: 'GET', path });
      if (holds(current.body as unknown as Record<string, unknown>, properties)) return current.body;
      throw e;
    }
  }
}
