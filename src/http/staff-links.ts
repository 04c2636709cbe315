/**
 * The staff home's links, gathered from the capabilities' manifests (`staffLinks`) and each shown only to staff whom
 * the linked page's own owner declaration lets in (src/http/ownership.ts). The page decides once; the home reads that
 * decision instead of keeping a second list of roles that can drift (issue 16: an agent's home linked to the catalogue
 * editor, and a partner manager's home to the one-stop's agreements, each answering 403).
 *
 * buildApp keeps the declared owner of every route as it is registered; the links read that list.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Lang } from '../i18n/index';
import { t } from '../i18n/index';
import { checkOwner, type Owner } from './ownership';

export interface StaffLink {
  href: { en: string; fr: string };
  /** Message key of the link text. */
  text: string;
}

export interface StaffLinks {
  /** The links this staff member may open, in the page's language. */
  for(request: FastifyRequest, lang: Lang): Promise<Array<{ href: string; text: string }>>;
}

/**
 * Would the ownership hook let this staff member open the page? The home's own request stands in for the page's: a GET
 * by the same staff member, with no path parameters (a link goes to a list or a form, never to one row), so a resolver
 * that reads a row finds none and a fixed owner (e.g. the one-stop's ledger) is checked as the hook checks it. Page
 * handlers may narrow further; test/staff-area.test.ts opens every link every demo person is shown.
 */
export async function mayOpen(owner: Owner | undefined, request: FastifyRequest): Promise<boolean> {
  if (owner === undefined || owner === 'client' || owner === 'partner-key') return false;
  if (owner === 'none' || owner === 'staff-self') return true;
  return (await checkOwner(request, owner)) === 'ok';
}

/**
 * The links, looked up in the app's registered routes (buildApp's list, filled as routes register). Once all routes
 * are in, the app refuses to start if a link names a page that does not exist.
 */
export function staffLinksOf(app: FastifyInstance, links: readonly StaffLink[], routes: readonly { method: string; url: string; owner?: Owner }[]): StaffLinks {
  // each link's page and its declared owner, found once when every route is in (not on every visit to the home)
  const pages = new Map<string, Owner | undefined>();
  app.addHook('onReady', async () => {
    const wanted = new Set(links.flatMap((l) => [l.href.en, l.href.fr]));
    for (const r of routes) if (r.method === 'GET' && wanted.has(r.url)) pages.set(r.url, r.owner);
    const missing = [...wanted].filter((h) => !pages.has(h));
    if (missing.length) throw new Error(`staff links to pages that do not exist: ${missing.join(', ')}`);
  });
  return {
    async for(request, lang) {
      const shown = [];
      for (const l of links) if (await mayOpen(pages.get(l.href[lang]), request)) shown.push({ href: l.href[lang], text: t(lang, l.text) });
      return shown;
    },
  };
}
