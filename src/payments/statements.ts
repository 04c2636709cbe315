/**
 * Business subscribers on account: a basket paid on account debits the subscriber's statement receivable
 * (receivable:statement:<business>) and credits the payees at once; when the subscriber pays its monthly statement,
 * an entry (event 'statement') moves the money into the trust bank account. Posted once per statement (posting key).
 */
import { AppError } from '../http/errors';
import { localDate } from '../i18n/index';
import { BANK, postEntry, statementReceivable, type Trx } from './ledger';
import { isCents } from './checkout';

export async function recordStatementPayment(trx: Trx, businessId: string, statementRef: string, cents: number, now = new Date()): Promise<number | null> {
  if (!isCents(cents)) throw new AppError(400, 'INVALID_AMOUNT');
  return postEntry(trx, {
    event: 'statement', eventRef: statementRef, effectiveDate: localDate(now), postingKey: `statement:${businessId}:${statementRef}`,
    legs: [{ account: BANK, cents }, { account: statementReceivable(businessId), cents: -cents }],
  });
}
