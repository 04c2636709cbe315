/** The editable terms of an agreement (a version's snapshot) and reading them from the live rows. */
import type { Kysely, Transaction } from 'kysely';
import type { DB } from '../schema';
import type { IntegrationLevel, RefundBearerRule, RemittanceFrequency } from './tables';

export interface AgreementSnapshot {
  title_en: string;
  title_fr: string;
  summary_en: string;
  summary_fr: string;
  integration_level: IntegrationLevel;
  term_start: string;
  term_end: string;
  renewal: 'none' | 'annual_review' | 'automatic';
  /** Months each automatic renewal adds to the term (1..60; 12 when a version older than the field does not say). */
  renewal_months: number;
  master_id: string | null;
  refund_bearer: RefundBearerRule;
  show_partner_name: boolean;
  show_partner_logo: boolean;
  visibility_channels: string[];
  convenience_fee_legal_basis_en: string | null;
  convenience_fee_legal_basis_fr: string | null;
  hold_business_days: number;
  remittance_frequency: RemittanceFrequency;
  net_invoices: boolean;
  payment_due_days: number;
  services: Array<{ service_id: string; channels: string[] }>;
  service_levels: Array<{ standard_id: string; target: number }>;
}

export const SNAPSHOT_FIELDS = [
  'title_en', 'title_fr', 'summary_en', 'summary_fr', 'integration_level', 'term_start', 'term_end', 'renewal', 'renewal_months', 'master_id',
  'refund_bearer', 'show_partner_name', 'show_partner_logo', 'visibility_channels', 'convenience_fee_legal_basis_en',
  'convenience_fee_legal_basis_fr', 'hold_business_days', 'remittance_frequency', 'net_invoices', 'payment_due_days',
] as const;

type AnyDb = Kysely<DB> | Transaction<DB>;

/** A version's terms as stored, with the defaults of fields added after it was written (renewal_months: 12). */
export function withSnapshotDefaults(snap: AgreementSnapshot): AgreementSnapshot {
  return { ...snap, renewal_months: snap.renewal_months ?? 12 };
}

/** The terms in force (the agreement row and its services and service levels). */
export async function liveSnapshot(db: AnyDb, agreementId: string): Promise<AgreementSnapshot | undefined> {
  const [a, services, levels] = await Promise.all([
    db.selectFrom('agreements').selectAll().where('id', '=', agreementId).executeTakeFirst(),
    db.selectFrom('agreement_services').select(['service_id', 'channels']).where('agreement_id', '=', agreementId).orderBy('service_id').execute(),
    db.selectFrom('agreement_service_levels').select(['standard_id', 'target']).where('agreement_id', '=', agreementId).orderBy('standard_id').execute(),
  ]);
  if (!a) return undefined;
  const snap = Object.fromEntries(SNAPSHOT_FIELDS.map((f) => [f, a[f]])) as Omit<AgreementSnapshot, 'services' | 'service_levels'>;
  return { ...snap, services, service_levels: levels.map((l) => ({ standard_id: l.standard_id, target: Number(l.target) })) };
}

/** Writes a snapshot onto the live rows (inside the caller's transaction). */
export async function applySnapshot(trx: AnyDb, agreementId: string, snap: AgreementSnapshot, extra: Record<string, unknown> = {}) {
  const fields = Object.fromEntries(SNAPSHOT_FIELDS.map((f) => [f, snap[f]]));
  await trx.updateTable('agreements').set({ ...fields, ...extra, updated_at: new Date() } as never).where('id', '=', agreementId).execute();
  await trx.deleteFrom('agreement_services').where('agreement_id', '=', agreementId).execute();
  if (snap.services.length) await trx.insertInto('agreement_services').values(snap.services.map((s) => ({ agreement_id: agreementId, service_id: s.service_id, channels: s.channels }))).execute();
  await trx.deleteFrom('agreement_service_levels').where('agreement_id', '=', agreementId).execute();
  if (snap.service_levels.length) await trx.insertInto('agreement_service_levels').values(snap.service_levels.map((l) => ({ agreement_id: agreementId, standard_id: l.standard_id, target: l.target }))).execute();
}
