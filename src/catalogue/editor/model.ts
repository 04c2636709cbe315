/**
 * The editable content of a service as one JSON snapshot, read from and applied to the live rows.
 * A revision (service_versions row) holds the proposed snapshot (`snapshot`) and the live content it started from
 * (`base`), so that its diff stays readable after publication.
 */
import type { ColumnType, Generated, Kysely, Selectable, Transaction } from 'kysely';
import type { DB } from '../../schema';
import type { Database } from '../../db/database';
import type { ChannelType, ServiceChannelsTable, ServiceCostsTable, ServiceOutputsTable, ServiceRequirementsTable, ServiceStatus } from '../tables';

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;

export const CHANNEL_TYPES: ChannelType[] = ['online', 'phone', 'in_person', 'mail', 'email', 'fax', 'kiosk'];
export const AUDIENCES = ['PERSON', 'ECONOM', 'NGO', 'PTC', 'INTERN_GOV', 'FOR'] as const;
export const THEMES = ['health', 'transport', 'environment', 'civil-status', 'family', 'business', 'municipal', 'tax', 'indigenous', 'social', 'housing', 'education', 'employment', 'immigration', 'benefits'] as const;

/** Children of a service as stored (the live tables' columns, without ids). */
export type ChannelSnap = Omit<Selectable<ServiceChannelsTable>, 'id' | 'service_id'>;
export type RequirementSnap = Pick<ServiceRequirementsTable, 'name_en' | 'name_fr' | 'description_en' | 'description_fr'>;
export type CostSnap = Pick<ServiceCostsTable, 'amount_cents' | 'description_en' | 'description_fr'>;
export type OutputSnap = Pick<ServiceOutputsTable, 'name_en' | 'name_fr'>;

/** The editable fields of a service. */
export interface Snapshot {
  title_en: string;
  title_fr: string;
  description_en: string;
  description_fr: string;
  keywords_en: string[];
  keywords_fr: string[];
  audiences: string[];
  thematic_areas: string[];
  channels: ChannelSnap[];
  requirements: RequirementSnap[];
  costs: CostSnap[];
  outputs: OutputSnap[];
  agent_notes_en: string | null;
  agent_notes_fr: string | null;
  guarantee_days: number | null;
}

export const emptySnapshot = (): Snapshot => ({
  title_en: '', title_fr: '', description_en: '', description_fr: '', keywords_en: [], keywords_fr: [], audiences: [], thematic_areas: [],
  channels: [], requirements: [], costs: [], outputs: [], agent_notes_en: null, agent_notes_fr: null, guarantee_days: null,
});

/** Tables and columns added by the editor migrations (overlaid on the shared DB type). */
export type EditorTables = {
  service_versions: {
    base: ColumnType<Snapshot | null, string | null | undefined, string | null>;
    updated_at: Timestamp;
    submitted_by: string | null;
    submitted_at: Timestamp | null;
    reviewed_by: string | null;
  };
  service_contacts: {
    id: Generated<number>;
    service_id: string;
    org_id: string;
    name: string;
    role_en: string;
    role_fr: string;
    phone: string | null;
    email: string | null;
    created_by: string | null;
    created_at: Generated<Date>;
  };
  editor_events: {
    id: Generated<number>;
    service_id: string;
    version: number | null;
    action: EditorAction;
    actor_id: string | null;
    comment: string | null;
    created_at: Generated<Date>;
  };
};

export type EditorAction =
  | 'created' | 'saved' | 'submitted' | 'recalled' | 'sent_back' | 'published' | 'withdrawn' | 'reviewed' | 'discarded' | 'contact_added' | 'contact_removed';

export type EditorDb = Kysely<DB & EditorTables>;
export const edb = (db: Database | Transaction<DB>): EditorDb => (db as Kysely<DB>).withTables<EditorTables>() as EditorDb;

export type OpenStatus = Extract<ServiceStatus, 'draft' | 'in_review'>;

const channelOrder = (c: string) => CHANNEL_TYPES.indexOf(c as ChannelType);

/** Read the live content of a service as a snapshot (undefined when the service does not exist). */
export async function liveSnapshot(db: EditorDb, serviceId: string): Promise<Snapshot | undefined> {
  const s = await db.selectFrom('services').selectAll().where('id', '=', serviceId).executeTakeFirst();
  if (!s) return undefined;
  const [channels, requirements, costs, outputs] = await Promise.all([
    db.selectFrom('service_channels').selectAll().where('service_id', '=', serviceId).execute(),
    db.selectFrom('service_requirements').selectAll().where('service_id', '=', serviceId).orderBy('position').orderBy('id').execute(),
    db.selectFrom('service_costs').selectAll().where('service_id', '=', serviceId).orderBy('id').execute(),
    db.selectFrom('service_outputs').selectAll().where('service_id', '=', serviceId).orderBy('id').execute(),
  ]);
  return {
    title_en: s.title_en,
    title_fr: s.title_fr,
    description_en: s.description_en,
    description_fr: s.description_fr,
    keywords_en: s.keywords_en ?? [],
    keywords_fr: s.keywords_fr ?? [],
    audiences: s.audiences ?? [],
    thematic_areas: s.thematic_areas ?? [],
    channels: channels
      .sort((a, b) => channelOrder(a.channel) - channelOrder(b.channel))
      .map((c) => ({ channel: c.channel, url_en: c.url_en, url_fr: c.url_fr, phone: c.phone, email: c.email, notes_en: c.notes_en, notes_fr: c.notes_fr })),
    requirements: requirements.map((r) => ({ name_en: r.name_en, name_fr: r.name_fr, description_en: r.description_en, description_fr: r.description_fr })),
    costs: costs.map((c) => ({ amount_cents: Number(c.amount_cents), description_en: c.description_en, description_fr: c.description_fr })),
    outputs: outputs.map((o) => ({ name_en: o.name_en, name_fr: o.name_fr })),
    agent_notes_en: s.agent_notes_en,
    agent_notes_fr: s.agent_notes_fr,
    guarantee_days: s.guarantee_days,
  };
}

/** Write a snapshot onto the live rows of a service (inside the caller's transaction). */
export async function applySnapshot(trx: EditorDb, serviceId: string, snap: Snapshot, extra: Record<string, unknown> = {}) {
  await trx
    .updateTable('services')
    .set({
      title_en: snap.title_en,
      title_fr: snap.title_fr,
      description_en: snap.description_en,
      description_fr: snap.description_fr,
      keywords_en: snap.keywords_en,
      keywords_fr: snap.keywords_fr,
      audiences: snap.audiences,
      thematic_areas: snap.thematic_areas,
      agent_notes_en: snap.agent_notes_en,
      agent_notes_fr: snap.agent_notes_fr,
      guarantee_days: snap.guarantee_days,
      updated_at: new Date(),
      ...(snap.costs.length ? { fee_applies: true } : {}),
      ...extra,
    })
    .where('id', '=', serviceId)
    .execute();
  await trx.deleteFrom('service_channels').where('service_id', '=', serviceId).execute();
  await trx.deleteFrom('service_requirements').where('service_id', '=', serviceId).execute();
  await trx.deleteFrom('service_costs').where('service_id', '=', serviceId).execute();
  await trx.deleteFrom('service_outputs').where('service_id', '=', serviceId).execute();
  if (snap.channels.length) await trx.insertInto('service_channels').values(snap.channels.map((c) => ({ service_id: serviceId, ...c }))).execute();
  if (snap.requirements.length)
    await trx.insertInto('service_requirements').values(snap.requirements.map((r, i) => ({ service_id: serviceId, position: i + 1, ...r }))).execute();
  if (snap.costs.length)
    await trx.insertInto('service_costs').values(snap.costs.map((c) => ({ service_id: serviceId, currency: 'CAD', ...c }))).execute();
  if (snap.outputs.length) await trx.insertInto('service_outputs').values(snap.outputs.map((o) => ({ service_id: serviceId, ...o }))).execute();
}

/** Fill any missing key of a stored snapshot (older or foreign shapes) so that diffs and forms never crash. */
export function normaliseSnapshot(raw: unknown): Snapshot {
  const e = emptySnapshot();
  if (!raw || typeof raw !== 'object') return e;
  const r = raw as Record<string, any>;
  const arr = <T>(v: unknown): T[] => (Array.isArray(v) ? (v as T[]) : []);
  return {
    title_en: String(r.title_en ?? ''),
    title_fr: String(r.title_fr ?? ''),
    description_en: String(r.description_en ?? ''),
    description_fr: String(r.description_fr ?? ''),
    keywords_en: arr<string>(r.keywords_en).map(String),
    keywords_fr: arr<string>(r.keywords_fr).map(String),
    audiences: arr<string>(r.audiences).map(String),
    thematic_areas: arr<string>(r.thematic_areas).map(String),
    channels: arr<any>(r.channels)
      .filter((c) => c && CHANNEL_TYPES.includes(c.channel))
      .map((c) => ({ channel: c.channel, url_en: c.url_en ?? null, url_fr: c.url_fr ?? null, phone: c.phone ?? null, email: c.email ?? null, notes_en: c.notes_en ?? null, notes_fr: c.notes_fr ?? null })),
    requirements: arr<any>(r.requirements).map((x) => ({ name_en: String(x?.name_en ?? ''), name_fr: String(x?.name_fr ?? ''), description_en: x?.description_en ?? null, description_fr: x?.description_fr ?? null })),
    costs: arr<any>(r.costs).map((x) => ({ amount_cents: Number(x?.amount_cents ?? 0), description_en: String(x?.description_en ?? ''), description_fr: String(x?.description_fr ?? '') })),
    outputs: arr<any>(r.outputs).map((x) => ({ name_en: String(x?.name_en ?? ''), name_fr: String(x?.name_fr ?? '') })),
    agent_notes_en: r.agent_notes_en ?? null,
    agent_notes_fr: r.agent_notes_fr ?? null,
    guarantee_days: typeof r.guarantee_days === 'number' ? r.guarantee_days : null,
  };
}
