/**
 * The typed database: the union of every capability's tables.
 * Each capability declares its own tables in src/<capability>/tables.ts.
 */
import type { SessionsTable } from './platform-migrations';
import type { CatalogueTables } from '../catalogue/tables';
import type { StaffTables } from '../staff/tables';
import type { ClientsTables } from '../clients/tables';
import type { NoticesTables } from '../notices/tables';
import type { CasesTables } from '../cases/tables';
import type { CountersTables } from '../counters/tables';
import type { AgreementsTables } from '../agreements/tables';
import type { PerformanceTables } from '../performance/tables';

export interface DB
  extends CatalogueTables,
    StaffTables,
    ClientsTables,
    NoticesTables,
    CasesTables,
    CountersTables,
    AgreementsTables,
    PerformanceTables {
  sessions: SessionsTable;
}
