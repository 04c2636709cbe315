/**
 * Real partner systems for Tell Us Once tests: HTTP servers on 127.0.0.1 that receive signed notices.
 *
 * Behaviours: 'fast' (200 at once), 'slow' (answers after delayMs), 'fail' (always 500), 'timeout' (never answers
 * before the client gives up), 'flapping' (500 for the first `failures` requests of each notice, then 200),
 * 'reject' (422 with a reason in plain language), 'random' (500 with probability `failRate`).
 * Every partner verifies the HMAC signature and applies each notice at most once (dedup on Idempotency-Key): `received`
 * counts requests, `applied` maps notice id → times applied (must be 1), `badSignatures` counts refusals.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifySignature } from '../../src/notices/signing';

export type Behaviour = 'fast' | 'slow' | 'fail' | 'timeout' | 'flapping' | 'reject' | 'random';

export interface PartnerOptions {
  behaviour: Behaviour;
  secret?: string;
  delayMs?: number;
  failures?: number;
  failRate?: number;
  reason?: string;
}

export interface Partner {
  url: string;
  received: number;
  badSignatures: number;
  /** notice id → number of times applied (exactly-once means every value is 1) */
  applied: Map<string, number>;
  /** notice id → payload as applied */
  payloads: Map<string, any>;
  /** notice id → requests received for it */
  attempts: Map<string, number>;
  /** delivery time (ms since epoch) of the first application of each notice */
  appliedAt: Map<string, number>;
  setSecret(secret: string): void;
  setBehaviour(b: Behaviour, opts?: Partial<PartnerOptions>): void;
  close(): Promise<void>;
}

export async function startPartner(opts: PartnerOptions): Promise<Partner> {
  let o = { ...opts };
  const sockets = new Set<import('node:net').Socket>();
  const p: Partner = {
    url: '',
    received: 0,
    badSignatures: 0,
    applied: new Map(),
    payloads: new Map(),
    attempts: new Map(),
    appliedAt: new Map(),
    setSecret(s) {
      o.secret = s;
    },
    setBehaviour(b, more = {}) {
      o = { ...o, ...more, behaviour: b };
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      p.received++;
      const key = String(req.headers['idempotency-key'] ?? '');
      p.attempts.set(key, (p.attempts.get(key) ?? 0) + 1);
      const send = (status: number, obj: unknown) => {
        if (res.destroyed) return;
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(obj));
      };
      if (o.secret && !verifySignature(o.secret, body, req.headers['guichet-signature'] as string)) {
        p.badSignatures++;
        return send(401, { error: 'bad signature' });
      }
      const apply = () => {
        // dedup on the idempotency key: applying twice would be a duplicate
        if (!p.applied.has(key)) {
          p.applied.set(key, 1);
          p.appliedAt.set(key, Date.now());
          try {
            p.payloads.set(key, JSON.parse(body));
          } catch {
            p.payloads.set(key, null);
          }
        }
        return send(200, { status: 'received' });
      };
      switch (o.behaviour) {
        case 'fast':
          return apply();
        case 'slow':
          return void setTimeout(apply, o.delayMs ?? 300);
        case 'fail':
          return send(500, { error: 'internal error' });
        case 'timeout':
          return; // never answer; the socket is destroyed at close
        case 'flapping':
          return (p.attempts.get(key) ?? 0) <= (o.failures ?? 2) ? send(500, { error: 'try again' }) : apply();
        case 'reject':
          return send(422, { reason: o.reason ?? 'We have no record of this person.' });
        case 'random':
          return Math.random() < (o.failRate ?? 0.3) ? send(503, { error: 'busy' }) : apply();
      }
    });
  });
  server.keepAliveTimeout = 30_000;
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  p.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/notices`;
  return p;
}
