/**
 * The intake of new services (Maine's service pipeline): a partner proposes a new online service with a short
 * business case; the one-stop's managers score it on the governance board's factors; the scores rank a backlog that
 * the board decides on; a partner may ask for re-evaluation at the next meeting; an approved proposal becomes a draft
 * catalogue service (the catalogue editor's createService, owned by the partner) and a draft amendment of the
 * partner's agreement in force that adds the service on the online channel.
 *
 * Scores (whole numbers 0..5 each):
 *   value     = law_requires + promotes_one_stop + client_demand + agency_benefit + government_benefit   (0..25)
 *   resources = (5 − effort) + (5 − scope) + technical_fit + urgency                                        (0..20)
 *   total     = 2 × value + resources: value weighs double, so a cheap service of little value does not outrank a
 *               valuable one (the board's rule: fees pay for as many free services as possible).
 * The backlog is ordered by total, then value, then the date proposed.
 */
import { sql } from 'kysely';
import type { Database } from '../db/database';
import { isUuid } from '../db/ids';
import { AppError, type FieldError } from '../http/errors';
import type { StaffPrincipal } from '../http/session';
import { createService } from '../catalogue/editor/workflow';
import { emptySnapshot } from '../catalogue/editor/model';
import { isIsoDate } from './fees';
import { liveSnapshot, withSnapshotDefaults, type AgreementSnapshot } from './model';
import { isBoard, isManager, isPartnerStaff, seesAll } from './service';

export const VALUE_FACTORS = ['law_requires', 'promotes_one_stop', 'client_demand', 'agency_benefit', 'government_benefit'] as const;
export const RESOURCE_FACTORS = ['effort', 'scope', 'technical_fit', 'urgency'] as const;
export type Scores = Record<(typeof VALUE_FACTORS)[number] | (typeof RESOURCE_FACTORS)[number], number>;

export function scoreOf(s: Scores) {
  const value = VALUE_FACTORS.reduce((n, f) => n + s[f], 0);
  const resources = 5 - s.effort + (5 - s.scope) + s.technical_fit + s.urgency;
  return { value, resources, total: 2 * value + resources };
}

export async function proposalFor(db: Database, staff: StaffPrincipal, id: string) {
  if (!isUuid(id) || !(seesAll(staff) || isPartnerStaff(staff))) throw new AppError(404, 'PROPOSAL_NOT_FOUND');
  let q = db.selectFrom('service_proposals').selectAll().where('id', '=', id);
  if (!seesAll(staff)) q = q.where('partner_org_id', '=', staff.orgId);
  const p = await q.executeTakeFirst();
  if (!p) throw new AppError(404, 'PROPOSAL_NOT_FOUND');
  return p;
}

export async function listProposals(db: Database, staff: StaffPrincipal) {
  if (!(seesAll(staff) || isPartnerStaff(staff))) throw new AppError(403, 'FORBIDDEN');
  let q = db.selectFrom('service_proposals as p').innerJoin('organisations as o', 'o.id', 'p.partner_org_id')
    .select(['p.id', 'p.title_en', 'p.title_fr', 'p.status', 'p.score_value', 'p.score_resources', 'p.score_total', 'p.partner_org_id', 'p.created_at', 'o.name_en', 'o.name_fr', 'p.service_id'])
    .orderBy(sql`p.score_total desc nulls last`).orderBy(sql`p.score_value desc nulls last`).orderBy('p.created_at');
  if (!seesAll(staff)) q = q.where('p.partner_org_id', '=', staff.orgId);
  return q.execute();
}

const text = (raw: Record<string, unknown>, f: string, max: number, details: FieldError[]) => {
  const v = typeof raw[f] === 'string' ? (raw[f] as string).trim() : '';
  if (!v) details.push({ field: f, code: 'required' });
  else if (v.length > max) details.push({ field: f, code: 'tooLong' });
  return v;
};

/** A partner's staff propose a new online service with a short business case. */
export async function propose(db: Database, staff: StaffPrincipal, raw: Record<string, unknown>): Promise<string> {
  if (!isPartnerStaff(staff)) throw new AppError(403, 'FORBIDDEN');
  const details: FieldError[] = [];
  const row = {
    title_en: text(raw, 'title_en', 200, details), title_fr: text(raw, 'title_fr', 200, details),
    business_case_en: text(raw, 'business_case_en', 4000, details), business_case_fr: text(raw, 'business_case_fr', 4000, details),
  };
  if (details.length) throw new AppError(400, 'VALIDATION_ERROR', undefined, undefined, details);
  const { id } = await db.insertInto('service_proposals').values({ ...row, partner_org_id: staff.orgId, proposed_by: staff.id }).returning('id').executeTakeFirstOrThrow();
  return id;
}

/** Managers score a proposal (again after a re-evaluation request). */
export async function score(db: Database, staff: StaffPrincipal, id: string, raw: Record<string, unknown>) {
  if (!isManager(staff)) throw new AppError(403, 'FORBIDDEN');
  const details: FieldError[] = [];
  const scores = {} as Scores;
  for (const f of [...VALUE_FACTORS, ...RESOURCE_FACTORS]) {
    const v = typeof raw[f] === 'string' && /^\d+$/.test((raw[f] as string).trim()) ? Number(raw[f]) : raw[f];
    if (typeof v !== 'number' || !Number.isInteger(v)) details.push({ field: f, code: raw[f] === undefined || raw[f] === '' ? 'required' : 'invalid' });
    else if (v < 0 || v > 5) details.push({ field: f, code: v < 0 ? 'tooSmall' : 'tooLarge' });
    else scores[f] = v;
  }
  await proposalFor(db, staff, id);
  if (details.length) throw new AppError(400, 'VALIDATION_ERROR', undefined, undefined, details);
  const s = scoreOf(scores);
  const r = await db.updateTable('service_proposals')
    .set({ scores: JSON.stringify(scores), score_value: s.value, score_resources: s.resources, score_total: s.total, scored_by: staff.id, scored_at: new Date(), status: 'scored', updated_at: new Date() })
    .where('id', '=', id).where('status', 'in', ['proposed', 'scored', 'reevaluation']).returning('id').executeTakeFirst();
  if (!r) throw new AppError(409, 'PROPOSAL_STATE');
  return s;
}

/** The partner asks for re-evaluation at the board's next meeting (after a rejection, or of its score). */
export async function requestReevaluation(db: Database, staff: StaffPrincipal, id: string, reason: string) {
  const p = await proposalFor(db, staff, id);
  if (!(isPartnerStaff(staff) && staff.orgId === p.partner_org_id)) throw new AppError(403, 'FORBIDDEN');
  const r = typeof reason === 'string' ? reason.trim() : '';
  if (!r || r.length > 2000) throw new AppError(400, 'VALIDATION_ERROR', undefined, undefined, [{ field: 'reason', code: r ? 'tooLong' : 'required' }]);
  const u = await db.updateTable('service_proposals').set({ status: 'reevaluation', reevaluation_reason: r, updated_at: new Date() })
    .where('id', '=', id).where('status', 'in', ['scored', 'rejected']).returning('id').executeTakeFirst();
  if (!u) throw new AppError(409, 'PROPOSAL_STATE');
}

/**
 * The board decides on a scored proposal. Approval creates the draft catalogue service (owned by the partner,
 * through the catalogue editor's createService, as the partner's editors would) and the draft amendment that adds it
 * to the partner's agreement in force (or adds it to an open draft amendment). Checked before anything is written:
 * the proposal is scored (422 PROPOSAL_NOT_SCORED), the partner has an active agreement (422 PROPOSAL_NO_AGREEMENT)
 * without a submitted or approved amendment (409 AMENDMENT_OPEN). The proposal is claimed first (approving twice:
 * 409 PROPOSAL_STATE); if creating the service fails, the claim is released.
 */
export async function decide(db: Database, staff: StaffPrincipal, id: string, d: { decision: string; decision_date: string; decision_reference: string }) {
  if (!isBoard(staff)) throw new AppError(403, 'FORBIDDEN');
  const p = await proposalFor(db, staff, id);
  const details: FieldError[] = [];
  if (d.decision !== 'approve' && d.decision !== 'reject') details.push({ field: 'decision', code: 'notAllowed' });
  if (!isIsoDate(d.decision_date)) details.push({ field: 'decision_date', code: d.decision_date ? 'invalid' : 'required' });
  const ref = typeof d.decision_reference === 'string' ? d.decision_reference.trim() : '';
  if (!ref || ref.length > 100) details.push({ field: 'decision_reference', code: ref ? 'tooLong' : 'required' });
  if (p.status === 'proposed' || p.status === 'reevaluation') throw new AppError(422, 'PROPOSAL_NOT_SCORED');
  if (p.status !== 'scored') throw new AppError(409, 'PROPOSAL_STATE');
  if (details.length) throw new AppError(400, 'VALIDATION_ERROR', undefined, undefined, details);
  if (d.decision === 'reject') {
    const r = await db.updateTable('service_proposals').set({ status: 'rejected', decision_date: d.decision_date, decision_reference: ref, decided_by: staff.id, updated_at: new Date() })
      .where('id', '=', id).where('status', '=', 'scored').returning('id').executeTakeFirst();
    if (!r) throw new AppError(409, 'PROPOSAL_STATE');
    return { status: 'rejected' as const, serviceId: null, agreementId: null };
  }
  const today = d.decision_date;
  const agreement = await db.selectFrom('agreements').select(['id']).where('partner_org_id', '=', p.partner_org_id).where('status', '=', 'active').where('is_master', '=', false)
    .where('term_end', '>=', today).orderBy('term_start', 'desc').limit(1).executeTakeFirst();
  if (!agreement) throw new AppError(422, 'PROPOSAL_NO_AGREEMENT');
  const openV = await db.selectFrom('agreement_versions').select(['status']).where('agreement_id', '=', agreement.id).where('status', 'in', ['draft', 'submitted', 'approved']).executeTakeFirst();
  if (openV && openV.status !== 'draft') throw new AppError(409, 'AMENDMENT_OPEN');
  const claimed = await db.updateTable('service_proposals').set({ status: 'approved', decision_date: d.decision_date, decision_reference: ref, decided_by: staff.id, updated_at: new Date() })
    .where('id', '=', id).where('status', '=', 'scored').returning('id').executeTakeFirst();
  if (!claimed) throw new AppError(409, 'PROPOSAL_STATE');
  let serviceId: string;
  try {
    const snap = { ...emptySnapshot(), title_en: p.title_en, title_fr: p.title_fr, description_en: p.business_case_en, description_fr: p.business_case_fr };
    // In the partner's name: the partner owns the service and its editors complete it through the editorial workflow.
    serviceId = await createService(db, { id: staff.id, name: staff.name, email: staff.email, orgId: p.partner_org_id, roles: ['editor'] }, snap);
  } catch (e) {
    await db.updateTable('service_proposals').set({ status: 'scored', decision_date: null, decision_reference: null, decided_by: null }).where('id', '=', id).execute();
    throw e;
  }
  const version = await db.transaction().execute(async (trx) => {
    const open = await trx.selectFrom('agreement_versions').selectAll().where('agreement_id', '=', agreement.id).where('status', 'in', ['draft', 'submitted', 'approved']).forUpdate().executeTakeFirst();
    let v: number;
    if (open) {
      const snap = withSnapshotDefaults(open.snapshot as AgreementSnapshot);
      snap.services = [...snap.services, { service_id: serviceId, channels: ['online'] }].sort((a, b) => a.service_id.localeCompare(b.service_id));
      await trx.updateTable('agreement_versions').set({ snapshot: JSON.stringify(snap), updated_at: new Date() }).where('agreement_id', '=', agreement.id).where('version', '=', open.version).execute();
      v = open.version;
    } else {
      const live = (await liveSnapshot(trx, agreement.id))!;
      const snap: AgreementSnapshot = { ...live, services: [...live.services, { service_id: serviceId, channels: ['online'] }].sort((a, b) => a.service_id.localeCompare(b.service_id)) };
      const last = await trx.selectFrom('agreement_versions').select((eb) => eb.fn.max('version').as('v')).where('agreement_id', '=', agreement.id).executeTakeFirstOrThrow();
      v = Number(last.v ?? 0) + 1;
      await trx.insertInto('agreement_versions').values({ agreement_id: agreement.id, version: v, status: 'draft', snapshot: JSON.stringify(snap), base: JSON.stringify(live), note: `${p.title_en} / ${p.title_fr}`, created_by: staff.id }).execute();
    }
    await trx.insertInto('agreement_events').values({ agreement_id: agreement.id, version: v, action: 'amendment_opened', staff_id: staff.id, detail: `proposal ${ref}` }).execute();
    await trx.updateTable('service_proposals').set({ service_id: serviceId, agreement_id: agreement.id, amendment_version: v, updated_at: new Date() }).where('id', '=', id).execute();
    return v;
  });
  return { status: 'approved' as const, serviceId, agreementId: agreement.id, amendmentVersion: version };
}
