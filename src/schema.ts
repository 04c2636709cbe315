/**
 * The typed database: the union of every capability's tables (each declares its own in src/<capability>/tables.ts),
 * declared beside the list of capabilities (src/capabilities.ts) so that src/db imports no capability.
 */
import type { IdempotencyKeysTable, RateLimitsTable, SessionsTable } from './db/platform-migrations';
import type { CatalogueTables } from './catalogue/tables';
import type { StaffTables } from './staff/tables';
import type { ClientsTables } from './clients/tables';
import type { NoticesTables } from './notices/tables';
import type { CasesTables } from './cases/tables';
import type { CountersTables } from './counters/tables';
import type { AgreementsTables } from './agreements/tables';
import type { BillingTables } from './billing/tables';
import type { PaymentsTables } from './payments/tables';
import type { PerformanceTables } from './performance/tables';

export interface DB extends CatalogueTables, StaffTables, ClientsTables, NoticesTables, CasesTables, CountersTables, AgreementsTables, BillingTables, PaymentsTables, PerformanceTables {
  sessions: SessionsTable;
  idempotency_keys: IdempotencyKeysTable;
  rate_limits: RateLimitsTable;
}
