/** Test helpers of the cases capability: clients with sessions, staff of partner organisations, JSON calls. */
import crypto from 'node:crypto';
import type { TestApp } from '../../../test/support/app';
import { staffCookie } from '../../../test/support/app';
import { csrfTokenFor } from '../../http/session';

export async function makeClient(t: TestApp, o: { email?: string | null; lang?: 'en' | 'fr'; given?: string } = {}): Promise<{ id: string; cookie: string }> {
  const id = crypto.randomUUID();
  await t.db
    .insertInto('clients')
    .values({
      id,
      kind: 'person',
      oidc_subject: `test-${id}`,
      given_name: o.given ?? 'Chloé',
      family_name: 'Tremblay',
      business_name: null,
      business_number: null,
      birth_date: '1990-04-02',
      email: o.email === undefined ? `${id.slice(0, 8)}@client.example` : o.email,
      phone: '613-555-0199',
      preferred_lang: o.lang ?? 'en',
      contact_preferences: JSON.stringify({ email: true }),
      accessibility_needs: null,
    })
    .execute();
  return { id, cookie: await sessionCookie(t, 'client', id) };
}

/** A signed-in session the way src/http/session.ts stores it (sha256 of the token), plus a CSRF cookie. */
export async function sessionCookie(t: TestApp, kind: 'client' | 'staff', subjectId: string): Promise<string> {
  const token = crypto.randomBytes(32).toString('base64url');
  await t.db
    .insertInto('sessions')
    .values({ id: crypto.createHash('sha256').update(token).digest('hex'), kind, subject_id: subjectId, data: JSON.stringify({}), expires_at: new Date(Date.now() + 3600_000) })
    .execute();
  const csrf = csrfTokenFor(token); // bound to the session (src/http/session.ts)
  return `guichet_csrf=${csrf}; guichet_sid=${token}`;
}

export async function makeStaff(t: TestApp, id: string, orgId: string, roles: string[]): Promise<string> {
  await t.db
    .insertInto('staff_users')
    .values({ id, email: `${id}@staff.example`, name: `Staff ${id}`, org_id: orgId, roles, oidc_subject: null })
    .onConflict((oc) => oc.column('id').doNothing())
    .execute();
  return staffCookie(t.app, id);
}

export const csrf = (cookie: string) => /guichet_csrf=([^;]+)/.exec(cookie)![1];

export async function call(t: TestApp, cookie: string | null, method: 'GET' | 'POST' | 'PUT', url: string, payload?: unknown) {
  const headers: Record<string, string> = {};
  if (cookie) {
    headers.cookie = cookie;
    headers['x-csrf-token'] = csrf(cookie);
  }
  const res = await t.app.inject({ method, url, headers, ...(payload !== undefined ? { payload: payload as any } : {}) });
  let body: any = null;
  try {
    body = res.json();
  } catch {
    body = res.body;
  }
  return { status: res.statusCode, body, res };
}

/** The one-stop agent gets the client's one-time code and redeems it (the client consents at that moment). */
export async function serve(t: TestApp, clientCookie: string, agentCookie: string) {
  const code = await call(t, clientCookie, 'POST', '/api/v1/cases/access-codes', {});
  if (code.status !== 201) throw new Error(`code: ${code.status} ${JSON.stringify(code.body)}`);
  const r = await call(t, agentCookie, 'POST', '/api/v1/cases/agent/redeem', { code: code.body.code });
  if (r.status !== 200) throw new Error(`redeem: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

/**
 * The birth-certificate form of the form tests: about you (pre-filled name and e-mail, whose certificate), about the
 * child (only for a child's; its name, then `childFields`), number of copies.
 */
export function birthCertificateForm(childFields: Array<Record<string, unknown>> = []) {
  return {
    title: { en: 'Order a birth certificate', fr: 'Commander un certificat de naissance' },
    pages: [
      {
        id: 'applicant',
        title: { en: 'About you', fr: 'À propos de vous' },
        fields: [
          { name: 'given_name', type: 'text', label: { en: 'Given name', fr: 'Prénom' }, required: true, prefill: 'given_name' },
          { name: 'email', type: 'email', label: { en: 'E-mail', fr: 'Courriel' }, required: true, prefill: 'email' },
          { name: 'relationship', type: 'radio', label: { en: 'Whose certificate?', fr: 'Le certificat de qui?' }, required: true, options: [{ value: 'self', label: { en: 'Mine', fr: 'Le mien' } }, { value: 'child', label: { en: 'My child’s', fr: 'Celui de mon enfant' } }] },
        ],
      },
      {
        id: 'child',
        title: { en: 'About the child', fr: 'À propos de l’enfant' },
        condition: { field: 'relationship', equals: 'child' },
        fields: [{ name: 'child_name', type: 'text', label: { en: 'Child’s full name', fr: 'Nom complet de l’enfant' }, required: true }, ...childFields],
      },
      {
        id: 'copies',
        title: { en: 'Copies', fr: 'Copies' },
        fields: [{ name: 'copies', type: 'number', label: { en: 'Number of copies', fr: 'Nombre de copies' }, required: true, min: 1, max: 5 }],
      },
    ],
  };
}
