/**
 * The editorial workflow's JSON API for partner systems (same rules as the pages in pages.ts; authorisation in
 * workflow.ts).
 */
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AppDeps } from '../../http/deps';
import { validationError } from '../../http/errors';
import { requireStaff, type StaffPrincipal } from '../../http/session';
import { formValues, parseServiceForm } from './form';
import { AUDIENCES, CHANNEL_TYPES, edb, liveSnapshot, normaliseSnapshot } from './model';
import { openRevision, saveDraft, serviceFor, submitForReview } from './workflow';
import { Nullable } from '../../http/schema';
import { serviceOwner } from './owners';

export const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 200 }) });

/** Editors and reviewers only. */
export function requireEditorial(request: FastifyRequest): StaffPrincipal {
  return requireStaff(request, ['editor', 'reviewer']);
}

const Str = (max: number) => Type.String({ maxLength: max });
const SnapshotSchema = Type.Object(
  {
    title_en: Str(300),
    title_fr: Str(300),
    description_en: Str(5000),
    description_fr: Str(5000),
    keywords_en: Type.Array(Str(80), { maxItems: 30 }),
    keywords_fr: Type.Array(Str(80), { maxItems: 30 }),
    audiences: Type.Array(Type.Union(AUDIENCES.map((a) => Type.Literal(a))), { maxItems: AUDIENCES.length }),
    thematic_areas: Type.Array(Str(60), { maxItems: 20 }),
    channels: Type.Array(
      Type.Object({
        channel: Type.Union(CHANNEL_TYPES.map((c) => Type.Literal(c))),
        url_en: Nullable(Str(500)),
        url_fr: Nullable(Str(500)),
        phone: Nullable(Str(40)),
        email: Nullable(Str(254)),
        notes_en: Nullable(Str(2000)),
        notes_fr: Nullable(Str(2000)),
      }, { additionalProperties: false }),
      { maxItems: CHANNEL_TYPES.length },
    ),
    requirements: Type.Array(
      Type.Object({ name_en: Str(500), name_fr: Str(500), description_en: Nullable(Str(2000)), description_fr: Nullable(Str(2000)) }, { additionalProperties: false }),
      { maxItems: 30 },
    ),
    costs: Type.Array(
      Type.Object({ amount_cents: Type.Integer({ minimum: 0, maximum: 10_000_000_000 }), description_en: Str(500), description_fr: Str(500) }, { additionalProperties: false }),
      { maxItems: 30 },
    ),
    outputs: Type.Array(Type.Object({ name_en: Str(500), name_fr: Str(500) }, { additionalProperties: false }), { maxItems: 30 }),
    agent_notes_en: Nullable(Str(5000)),
    agent_notes_fr: Nullable(Str(5000)),
    guarantee_days: Nullable(Type.Integer({ minimum: 1, maximum: 3650 })),
  },
  { additionalProperties: false },
);
const DraftResponse = Type.Object({
  serviceId: Type.String(),
  ownerOrgId: Type.String(),
  status: Type.String(),
  version: Type.Integer(),
  revision: Nullable(Type.Object({ version: Type.Integer(), status: Type.String(), comment: Nullable(Type.String()), snapshot: SnapshotSchema })),
  live: SnapshotSchema,
});
const ApiError = Type.Object({ error: Type.Object({ code: Type.String(), message: Type.String(), details: Type.Optional(Type.Array(Type.Object({ field: Type.String(), code: Type.String(), message: Type.Optional(Type.String()) }))) }) });

/** Form field names (from parseServiceForm) as JSON paths of the API body. */
function apiField(field: string): string {
  let m = /^ch_([a-z_]+?)_(url_en|url_fr|phone|email)$/.exec(field);
  if (m) return `channels.${m[1]}.${m[2]}`;
  if (/^ch_[a-z_]+$/.test(field)) return 'channels';
  m = /^req_(\d+)_(name_en|name_fr)$/.exec(field);
  if (m) return `requirements.${m[1]}.${m[2]}`;
  m = /^cost_(\d+)_(amount|en|fr)$/.exec(field);
  if (m) return `costs.${m[1]}.${m[2] === 'amount' ? 'amount_cents' : `description_${m[2]}`}`;
  m = /^out_(\d+)_(en|fr)$/.exec(field);
  if (m) return `outputs.${m[1]}.name_${m[2]}`;
  return field;
}

export async function apiRoutes(app: FastifyInstance, deps: AppDeps) {
  const { db } = deps;
  const xdb = edb(db);
  const ownService = serviceOwner(db);

  async function draftView(staff: StaffPrincipal, id: string) {
    const svc = await serviceFor(xdb, staff, id, 'view');
    const rev = await openRevision(xdb, id);
    return {
      serviceId: svc.id,
      ownerOrgId: svc.owner_org_id,
      status: svc.status,
      version: svc.version,
      revision: rev ? { version: rev.version, status: rev.status, comment: rev.comment, snapshot: normaliseSnapshot(rev.snapshot) } : null,
      live: (await liveSnapshot(xdb, id))!,
    };
  }

  app.get<{ Params: Static<typeof IdParams> }>(
    '/api/v1/staff/services/:id/draft',
    { config: ownService,
      schema: {
        tags: ['editor'],
        summary: 'The service’s live content and its open revision (draft or in review), if any',
        description: 'Staff session (editor of the owning organisation, or reviewer of the one-stop). Other organisations’ services answer 404.',
        params: IdParams,
        response: { 200: DraftResponse, 401: ApiError, 403: ApiError, 404: ApiError },
      },
    },
    async (request) => draftView(requireEditorial(request), request.params.id),
  );

  app.put<{ Params: Static<typeof IdParams>; Body: Static<typeof SnapshotSchema> }>(
    '/api/v1/staff/services/:id/draft',
    { config: ownService,
      schema: {
        tags: ['editor'],
        summary: 'Save the draft revision of a service (the published content stays live until a reviewer publishes)',
        description: 'Editor of the owning organisation. Costs are integer cents. Browser sessions send the CSRF token in the x-csrf-token header. 409 REVISION_IN_REVIEW while a revision is in review.',
        params: IdParams,
        body: SnapshotSchema,
        response: { 200: DraftResponse, 400: ApiError, 401: ApiError, 403: ApiError, 404: ApiError, 409: ApiError },
      },
    },
    async (request) => {
      const staff = requireStaff(request, ['editor']);
      const lang = request.lang;
      const svc = await serviceFor(xdb, staff, request.params.id, 'edit');
      const rev = await openRevision(xdb, svc.id);
      const current = rev ? normaliseSnapshot(rev.snapshot) : (await liveSnapshot(xdb, svc.id))!;
      const input = normaliseSnapshot(request.body);
      // The same rules as the page: run the input through the form parser (notes and descriptions come from the input).
      const { snapshot, errors } = parseServiceForm(formValues(input, 'en'), { ...input, thematic_areas: current.thematic_areas }, lang);
      if (errors.length) throw validationError(errors.map((e) => ({ ...e, field: apiField(e.field) })));
      await saveDraft(db, staff, svc.id, snapshot);
      return draftView(staff, svc.id);
    },
  );

  app.post<{ Params: Static<typeof IdParams> }>(
    '/api/v1/staff/services/:id/submit',
    { config: ownService,
      schema: {
        tags: ['editor'],
        summary: 'Submit the draft revision for review by the one-stop',
        params: IdParams,
        response: { 200: DraftResponse, 401: ApiError, 403: ApiError, 404: ApiError, 409: ApiError },
      },
    },
    async (request) => {
      const staff = requireStaff(request, ['editor']);
      await submitForReview(db, staff, request.params.id);
      return draftView(staff, request.params.id);
    },
  );
}
