/**
 * The editorial workflow (franchise model): partners' editors own their organisation's services; the one-stop's
 * reviewers publish. A published service stays live while a revision is drafted in service_versions
 * (draft → in_review → published, or sent back to draft with a comment). Every command is one transaction that
 * locks the service row, and leaves an editor_events row for the history.
 */
import crypto from 'node:crypto';
import type { Database } from '../../db/database';
import { AppError, validationError } from '../../http/errors';
import type { StaffPrincipal } from '../../http/session';
import { t, type Lang } from '../../i18n/index';
import { ONE_STOP_ORG_ID } from '../demo-data';
import { invalidateSearchIndex } from '../search/index';
import { invalidateCatalogueExport } from '../cpsv/export';
import { applySnapshot, edb, liveSnapshot, normaliseSnapshot, type EditorAction, type EditorDb, type Snapshot } from './model';

export const isEditor = (s: StaffPrincipal) => s.roles.includes('editor');
export const isOneStopReviewer = (s: StaffPrincipal) => s.roles.includes('reviewer') && s.orgId === ONE_STOP_ORG_ID;
export const canEdit = (s: StaffPrincipal, ownerOrgId: string) => isEditor(s) && s.orgId === ownerOrgId;
export const canView = (s: StaffPrincipal, ownerOrgId: string) => canEdit(s, ownerOrgId) || isOneStopReviewer(s);

const notFound = () => new AppError(404, 'SERVICE_NOT_FOUND');

/** Require the reviewer role of the one-stop organisation. */
export function requireOneStopReviewer(s: StaffPrincipal) {
  if (!isOneStopReviewer(s)) throw new AppError(403, 'FORBIDDEN');
}

export interface ServiceHead {
  id: string;
  owner_org_id: string;
  status: string;
  version: number;
  title_en: string;
  title_fr: string;
  reviewed_at: Date | null;
  published_at: Date | null;
}

/** The service when this staff member may see it in the editor (404 otherwise, so existence does not leak). */
export async function serviceFor(db: EditorDb, staff: StaffPrincipal, id: string, mode: 'view' | 'edit', lock = false): Promise<ServiceHead> {
  let q = db
    .selectFrom('services')
    .select(['id', 'owner_org_id', 'status', 'version', 'title_en', 'title_fr', 'reviewed_at', 'published_at'])
    .where('id', '=', id);
  if (lock) q = q.forUpdate();
  const s = await q.executeTakeFirst();
  if (!s) throw notFound();
  if (!(mode === 'edit' ? canEdit(staff, s.owner_org_id) : canView(staff, s.owner_org_id))) throw notFound();
  return s;
}

export async function openRevision(db: EditorDb, serviceId: string) {
  return db
    .selectFrom('service_versions')
    .selectAll()
    .where('service_id', '=', serviceId)
    .where('status', 'in', ['draft', 'in_review'])
    .executeTakeFirst();
}

async function log(db: EditorDb, serviceId: string, action: EditorAction, actor: StaffPrincipal, version: number | null, comment: string | null = null) {
  await db.insertInto('editor_events').values({ service_id: serviceId, action, actor_id: actor.id, version, comment }).execute();
}

/** Identifies what an edit form was opened on (the open draft as last saved, or the live version). */
export function editToken(svc: { version: number }, open: { id: number; updated_at: Date } | undefined): string {
  return open ? `r${open.id}-${new Date(open.updated_at).getTime()}` : `v${svc.version}`;
}

const same = (a: Snapshot, b: Snapshot) => JSON.stringify(a) === JSON.stringify(b);

function slug(text: string): string {
  const s = text
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40)
    .replace(/-+$/, '');
  return s || 'service';
}

/** Create a brand-new service owned by the editor's organisation: status 'draft' (not public) with revision 1. */
export async function createService(db: Database, staff: StaffPrincipal, snap: Snapshot): Promise<string> {
  if (!isEditor(staff)) throw new AppError(403, 'FORBIDDEN');
  const id = `${staff.orgId}-${slug(snap.title_en)}-${crypto.randomBytes(3).toString('hex')}`.slice(0, 100);
  await edb(db).transaction().execute(async (trx) => {
    await trx
      .insertInto('services')
      .values({
        id, source: 'editor', identifier: id, owner_org_id: staff.orgId, title_en: snap.title_en, title_fr: snap.title_fr,
        description_en: snap.description_en, description_fr: snap.description_fr, service_type: null, program_id: null,
        program_name_en: null, program_name_fr: null, url_en: null, url_fr: null, fiscal_year: null, last_review_fy: null,
        content_hash: null, agent_notes_en: null, agent_notes_fr: null, guarantee_days: null, reviewed_at: null, published_at: null,
        status: 'draft', version: 1, online_status: '{}', fee_applies: snap.costs.length > 0,
      })
      .execute();
    await applySnapshot(trx, id, snap);
    await trx.insertInto('service_delivering_orgs').values({ service_id: id, org_id: staff.orgId }).execute();
    await trx
      .insertInto('service_versions')
      .values({ service_id: id, version: 1, status: 'draft', snapshot: JSON.stringify(snap), base: null, changed_by: staff.id })
      .execute();
    await log(trx, id, 'created', staff, 1);
  });
  return id;
}

/**
 * Save the editor's content as the service's draft revision (creating it from the live content when needed).
 * Returns false when nothing differs from the live content and no draft exists (no empty revision is created).
 */
export async function saveDraft(db: Database, staff: StaffPrincipal, id: string, snap: Snapshot, expectedToken?: string): Promise<boolean> {
  return edb(db).transaction().execute(async (trx) => {
    const svc = await serviceFor(trx, staff, id, 'edit', true);
    const open = await openRevision(trx, id);
    if (open?.status === 'in_review') throw new AppError(409, 'REVISION_IN_REVIEW');
    // Optimistic concurrency: the form carries the token of what it was opened on.
    if (expectedToken !== undefined && expectedToken !== editToken(svc, open)) throw new AppError(409, 'DRAFT_CHANGED');
    const neverPublished = svc.status === 'draft';
    if (open) {
      await trx
        .updateTable('service_versions')
        .set({ snapshot: JSON.stringify(snap), changed_by: staff.id, updated_at: new Date() })
        .where('id', '=', open.id)
        .execute();
    } else {
      const base = (await liveSnapshot(trx, id))!;
      if (same(base, snap)) return false;
      await trx
        .insertInto('service_versions')
        .values({ service_id: id, version: svc.version + 1, status: 'draft', snapshot: JSON.stringify(snap), base: JSON.stringify(base), changed_by: staff.id })
        .execute();
    }
    // A service that was never published is not public: its live rows simply follow the draft.
    if (neverPublished) await applySnapshot(trx, id, snap);
    await log(trx, id, 'saved', staff, open?.version ?? svc.version + 1);
    return true;
  });
}

async function transition(
  db: Database,
  staff: StaffPrincipal,
  id: string,
  mode: 'view' | 'edit',
  from: 'draft' | 'in_review',
  fn: (trx: EditorDb, svc: ServiceHead, rev: NonNullable<Awaited<ReturnType<typeof openRevision>>>) => Promise<void>,
) {
  await edb(db).transaction().execute(async (trx) => {
    const svc = await serviceFor(trx, staff, id, mode, true);
    const rev = await openRevision(trx, id);
    if (!rev || rev.status !== from) throw new AppError(409, from === 'draft' ? 'NO_DRAFT' : 'NOT_IN_REVIEW');
    await fn(trx, svc, rev);
  });
}

/** Editor: draft → in review. */
export async function submitForReview(db: Database, staff: StaffPrincipal, id: string) {
  await transition(db, staff, id, 'edit', 'draft', async (trx, _svc, rev) => {
    await trx
      .updateTable('service_versions')
      .set({ status: 'in_review', submitted_by: staff.id, submitted_at: new Date(), updated_at: new Date() })
      .where('id', '=', rev.id)
      .execute();
    await log(trx, id, 'submitted', staff, rev.version);
  });
}

/** Editor: in review → draft (to change it again before a reviewer acts). */
export async function recall(db: Database, staff: StaffPrincipal, id: string) {
  await transition(db, staff, id, 'edit', 'in_review', async (trx, _svc, rev) => {
    await trx.updateTable('service_versions').set({ status: 'draft', updated_at: new Date() }).where('id', '=', rev.id).execute();
    await log(trx, id, 'recalled', staff, rev.version);
  });
}

/** Editor: drop the draft of a published service (the live content is unchanged). */
export async function discardDraft(db: Database, staff: StaffPrincipal, id: string) {
  await transition(db, staff, id, 'edit', 'draft', async (trx, svc, rev) => {
    if (svc.status === 'draft') throw new AppError(409, 'CANNOT_DISCARD_NEW');
    await trx.deleteFrom('service_versions').where('id', '=', rev.id).execute();
    await log(trx, id, 'discarded', staff, rev.version);
  });
}

function requireComment(comment: string | undefined, lang: Lang): string {
  const c = (comment ?? '').trim();
  if (!c) throw validationError([{ field: 'comment', code: 'required', message: t(lang, 'editor.error.commentRequired') }]);
  if (c.length > 2000) throw validationError([{ field: 'comment', code: 'tooLong', message: t(lang, 'editor.error.tooLong', { max: 2000 }) }]);
  return c;
}

/** One-stop reviewer: in review → published; the snapshot replaces the live content in the same transaction. */
export async function publish(db: Database, staff: StaffPrincipal, id: string, comment: string | undefined, lang: Lang) {
  requireOneStopReviewer(staff);
  const c = (comment ?? '').trim().slice(0, 2000) || null;
  await transition(db, staff, id, 'view', 'in_review', async (trx, _svc, rev) => {
    const base = await liveSnapshot(trx, id);
    const snap = normaliseSnapshot(rev.snapshot);
    const now = new Date();
    await applySnapshot(trx, id, snap, { status: 'published', version: rev.version, published_at: now, reviewed_at: now });
    // A previous row may hold this number from an earlier publication (e.g. a seed record): keep the history unique.
    await trx
      .deleteFrom('service_versions')
      .where('service_id', '=', id)
      .where('version', '=', rev.version)
      .where('status', '=', 'published')
      .execute();
    await trx
      .updateTable('service_versions')
      .set({ status: 'published', base: rev.base === null && _svc.status === 'draft' ? null : JSON.stringify(base), reviewed_by: staff.id, comment: c, updated_at: now })
      .where('id', '=', rev.id)
      .execute();
    await log(trx, id, 'published', staff, rev.version, c);
  });
  void lang;
  invalidateSearchIndex();
  invalidateCatalogueExport();
}

/** One-stop reviewer: in review → draft, with a comment for the editor. */
export async function sendBack(db: Database, staff: StaffPrincipal, id: string, comment: string | undefined, lang: Lang) {
  requireOneStopReviewer(staff);
  const c = requireComment(comment, lang);
  await transition(db, staff, id, 'view', 'in_review', async (trx, _svc, rev) => {
    await trx
      .updateTable('service_versions')
      .set({ status: 'draft', comment: c, reviewed_by: staff.id, updated_at: new Date() })
      .where('id', '=', rev.id)
      .execute();
    await log(trx, id, 'sent_back', staff, rev.version, c);
  });
}

/** One-stop reviewer: take a published service off the public catalogue. */
export async function withdraw(db: Database, staff: StaffPrincipal, id: string, comment: string | undefined, lang: Lang) {
  requireOneStopReviewer(staff);
  const c = requireComment(comment, lang);
  await edb(db).transaction().execute(async (trx) => {
    const svc = await serviceFor(trx, staff, id, 'view', true);
    if (svc.status !== 'published') throw new AppError(409, 'NOT_PUBLISHED');
    await trx.updateTable('services').set({ status: 'withdrawn', updated_at: new Date() }).where('id', '=', id).execute();
    await log(trx, id, 'withdrawn', staff, svc.version, c);
  });
  invalidateSearchIndex();
  invalidateCatalogueExport();
}

/** Owning editor or one-stop reviewer: the published content is still accurate. */
export async function markReviewed(db: Database, staff: StaffPrincipal, id: string) {
  await edb(db).transaction().execute(async (trx) => {
    const svc = await serviceFor(trx, staff, id, 'view', true);
    if (svc.status !== 'published') throw new AppError(409, 'NOT_PUBLISHED');
    await trx.updateTable('services').set({ reviewed_at: new Date() }).where('id', '=', id).execute();
    await log(trx, id, 'reviewed', staff, svc.version);
  });
}

export interface ContactInput {
  name: string;
  role_en: string;
  role_fr: string;
  phone: string | null;
  email: string | null;
}

/** Owning editor: add a resource person for agents (internal). */
export async function addContact(db: Database, staff: StaffPrincipal, id: string, c: ContactInput) {
  await edb(db).transaction().execute(async (trx) => {
    const svc = await serviceFor(trx, staff, id, 'edit', true);
    await trx.insertInto('service_contacts').values({ service_id: id, org_id: svc.owner_org_id, created_by: staff.id, ...c }).execute();
    await log(trx, id, 'contact_added', staff, null, c.name);
  });
}

/** Owning editor: remove a resource person. */
export async function removeContact(db: Database, staff: StaffPrincipal, id: string, contactId: number) {
  await edb(db).transaction().execute(async (trx) => {
    await serviceFor(trx, staff, id, 'edit', true);
    const row = await trx.deleteFrom('service_contacts').where('id', '=', contactId).where('service_id', '=', id).returning('name').executeTakeFirst();
    if (!row) throw new AppError(404, 'CONTACT_NOT_FOUND');
    await log(trx, id, 'contact_removed', staff, null, row.name);
  });
}
