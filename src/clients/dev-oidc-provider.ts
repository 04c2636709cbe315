/**
 * Built-in DEVELOPMENT OpenID Connect provider (oidc-provider), for `npm start` and tests only. It listens on
 * loopback, signs ID tokens with a key generated at startup, keeps everything in memory, and signs in demonstration
 * identities chosen on a plain page (no password): clients (people, one business representative) and the demo staff
 * of the seed (subject = staff id, e-mail = their staff e-mail). Refuses to start when NODE_ENV=production.
 *
 * Guichet talks to it exactly as to a real government identity provider: discovery, authorization code + PKCE,
 * state, nonce, token endpoint with client_secret_basic, userinfo.
 */
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair } from 'jose';
import Provider from 'oidc-provider';
import { demoStaff } from '../catalogue/demo-data';

export interface DevAccount {
  sub: string;
  kind: 'client' | 'staff';
  given_name?: string;
  family_name?: string;
  name: string;
  email: string;
  birthdate?: string;
  locale?: 'en' | 'fr';
  /** OIDC standard 'address' claim. */
  address?: { street_address: string; locality: string; region: string; postal_code: string; country: 'CA' };
}

/** Demonstration clients (the subjects are stable, so their Guichet files persist across restarts). */
export const DEV_CLIENT_ACCOUNTS: DevAccount[] = [
  { sub: 'demo-camille', kind: 'client', given_name: 'Camille', family_name: 'Tremblay', name: 'Camille Tremblay', email: 'camille.tremblay@example.ca', birthdate: '1985-04-12', locale: 'fr',
    address: { street_address: '45 rue Laurier', locality: 'Gatineau', region: 'QC', postal_code: 'J8X 3V8', country: 'CA' } },
  { sub: 'demo-jordan', kind: 'client', given_name: 'Jordan', family_name: 'Smith', name: 'Jordan Smith', email: 'jordan.smith@example.ca', birthdate: '1990-09-30', locale: 'en',
    address: { street_address: '150 Elgin Street', locality: 'Ottawa', region: 'ON', postal_code: 'K2P 1L4', country: 'CA' } },
  { sub: 'demo-marc', kind: 'client', given_name: 'Marc', family_name: 'Gagnon', name: 'Marc Gagnon', email: 'marc@boulangerie-gagnon.example.ca', birthdate: '1972-01-20', locale: 'fr' },
];

export function devAccounts(): DevAccount[] {
  return [
    ...DEV_CLIENT_ACCOUNTS,
    ...demoStaff.map((s): DevAccount => ({ sub: s.id, kind: 'staff', name: s.name, email: s.email, locale: 'en' })),
  ];
}

export interface DevProvider {
  issuer: string;
  clientId: string;
  clientSecret: string;
  port: number;
  close(): Promise<void>;
}

export interface DevProviderOptions {
  port?: number; // 0 = any free port
  host?: string; // loopback only
  redirectUris: string[];
  clientId?: string;
  clientSecret?: string;
}

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

function page(title: string, body: string): string {
  return `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;line-height:1.5}
fieldset{border:1px solid #555;padding:1rem}label{display:block;margin:.3rem 0}button{font-size:1.1rem;padding:.4rem 1.2rem;margin-top:1rem}
.warn{background:#fff3cd;border-left:6px solid #b58105;padding:.5rem 1rem}</style></head>
<body><main>${body}</main></body></html>`;
}

async function readForm(req: http.IncomingMessage, limit = 16 * 1024): Promise<URLSearchParams> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > limit) throw new Error('form too large');
    chunks.push(c as Buffer);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

export async function startDevProvider(opts: DevProviderOptions): Promise<DevProvider> {
  if (process.env.NODE_ENV === 'production') throw new Error('the development OpenID provider is not available in production');
  const host = opts.host ?? '127.0.0.1';
  if (!['127.0.0.1', '::1', 'localhost'].includes(host)) throw new Error('the development OpenID provider listens on loopback only');
  const clientId = opts.clientId ?? 'guichet-dev';
  const clientSecret = opts.clientSecret ?? crypto.randomBytes(24).toString('base64url');
  const accounts = new Map(devAccounts().map((a) => [a.sub, a]));

  let handler: http.RequestListener = (_req, res) => {
    res.statusCode = 503;
    res.end();
  };
  const server = http.createServer((req, res) => handler(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const issuer = `http://${host === '::1' ? '[::1]' : host}:${port}`;

  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const jwk = { ...(await exportJWK(privateKey)), alg: 'RS256', use: 'sig', kid: crypto.randomBytes(8).toString('hex') };
  const redirectUris = [...new Set(opts.redirectUris)];
  const clientMeta = {
    client_id: clientId,
    client_secret: clientSecret,
    redirect_uris: redirectUris,
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  };

  const provider = new Provider(issuer, {
    clients: [clientMeta],
    jwks: { keys: [jwk] },
    cookies: { keys: [crypto.randomBytes(32).toString('base64url')] },
    pkce: { required: () => true },
    scopes: ['openid', 'email', 'profile', 'address'],
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name', 'given_name', 'family_name', 'birthdate', 'locale'],
      address: ['address'],
    },
    features: { devInteractions: { enabled: false }, rpInitiatedLogout: { enabled: false }, revocation: { enabled: false } },
    ttl: { AccessToken: 600, AuthorizationCode: 60, IdToken: 600, Interaction: 600, Session: 3600, Grant: 3600 },
    clientBasedCORS: () => false,
    interactions: { url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
    async findAccount(_ctx: unknown, sub: string) {
      const a = accounts.get(sub);
      if (!a) return undefined;
      return {
        accountId: sub,
        async claims() {
          return {
            sub,
            email: a.email,
            email_verified: true,
            name: a.name,
            ...(a.given_name ? { given_name: a.given_name } : {}),
            ...(a.family_name ? { family_name: a.family_name } : {}),
            ...(a.birthdate ? { birthdate: a.birthdate } : {}),
            locale: a.locale ?? 'en',
            ...(a.address ? { address: a.address } : {}),
          };
        },
      };
    },
    // Guichet is this provider's only (first-party) client: grant the requested scopes without a consent screen.
    async loadExistingGrant(ctx: any) {
      const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
      if (grantId) return ctx.oidc.provider.Grant.find(grantId);
      const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
      grant.addOIDCScope('openid email profile address');
      await grant.save();
      return grant;
    },
    async renderError(ctx: any, out: Record<string, string>) {
      ctx.type = 'html';
      ctx.body = page('Sign-in error', `<h1>Sign-in error</h1>${Object.entries(out).map(([k, v]) => `<p><strong>${esc(k)}</strong>: ${esc(String(v))}</p>`).join('')}`);
    },
  });
  const callback = provider.callback();

  handler = async (req, res) => {
    const url = new URL(req.url ?? '/', issuer);
    const m = /^\/interaction\/([\w-]+)(\/login)?$/.exec(url.pathname);
    if (!m) return callback(req, res);
    try {
      const details = await provider.interactionDetails(req, res);
      if (req.method === 'POST' && m[2]) {
        const form = await readForm(req);
        const sub = form.get('sub') ?? '';
        if (!accounts.has(sub)) {
          res.writeHead(400, { 'content-type': 'text/html; charset=utf-8' });
          return res.end(page('Choose an identity', '<h1>Choose an identity</h1><p>Unknown identity. Go back and choose one.</p>'));
        }
        return await provider.interactionFinished(req, res, { login: { accountId: sub } }, { mergeWithLastSubmission: false });
      }
      if (details.prompt.name !== 'login') {
        // consent is granted by loadExistingGrant; anything else finishes with the current session
        return await provider.interactionFinished(req, res, {}, { mergeWithLastSubmission: true });
      }
      const radios = (kind: 'client' | 'staff') =>
        [...accounts.values()]
          .filter((a) => a.kind === kind)
          .map((a, i) => `<label><input type="radio" name="sub" value="${esc(a.sub)}"${kind === 'client' && i === 0 ? ' checked' : ''}> ${esc(a.name)} <small>(${esc(a.email)})</small></label>`)
          .join('');
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      res.end(
        page(
          'Development identity provider',
          `<h1>Development identity provider</h1>
<p class="warn">For development and tests only: choose who you are. A real deployment uses a government identity provider (OIDC_ISSUER).</p>
<form method="post" action="/interaction/${esc(details.uid)}/login">
<fieldset><legend>People and businesses</legend>${radios('client')}</fieldset>
<fieldset><legend>Staff (demo)</legend>${radios('staff')}</fieldset>
<button type="submit">Continue</button></form>`,
        ),
      );
    } catch (err) {
      res.writeHead(400, { 'content-type': 'text/html; charset=utf-8' });
      res.end(page('Sign-in error', `<h1>Sign-in error</h1><p>${esc((err as Error).message)}</p>`));
    }
  };

  return {
    issuer,
    clientId,
    clientSecret,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/**
 * For `npm start`: outside production and without OIDC_ISSUER, start the development provider on
 * 127.0.0.1:OIDC_DEV_PORT and point config.oidc at it. Returns a stopper (or undefined when not started).
 */
export async function startDevIdentityProviderIfNeeded(
  config: { env: string; publicBaseUrl: string; oidc: { issuer: string | undefined; clientId: string; clientSecret: string; devPort: number } },
  log?: { info(msg: string): void; warn(msg: string): void },
): Promise<DevProvider | undefined> {
  if (config.oidc.issuer) return undefined;
  if (config.env === 'production') {
    log?.warn('OIDC_ISSUER is not set: client and staff sign-in are unavailable (no development provider in production)');
    return undefined;
  }
  const dev = await startDevProvider({ port: config.oidc.devPort, redirectUris: [`${config.publicBaseUrl}/auth/callback`] });
  Object.assign(config.oidc, { issuer: dev.issuer, clientId: dev.clientId, clientSecret: dev.clientSecret });
  log?.info(`development OpenID provider on ${dev.issuer} (demo identities, not for production)`);
  return dev;
}
