/** Configuration from the environment: defaults, and a clear error at start for a value that cannot work. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from './config';

describe('configuration', () => {
  it('PostgreSQL pool size: 10 unless GUICHET_PG_POOL says otherwise; nonsense stops the start with the variable named', () => {
    assert.equal(loadConfig({}).pgPoolSize, 10);
    assert.equal(loadConfig({ GUICHET_PG_POOL: '24' }).pgPoolSize, 24);
    for (const bad of ['0', '-3', '2.5', 'many']) {
      assert.throws(() => loadConfig({ GUICHET_PG_POOL: bad }), /GUICHET_PG_POOL must be an integer between 1 and 1000/);
    }
  });

  it('PORT outside 0..65535 stops the start with the variable named', () => {
    assert.equal(loadConfig({ PORT: '8080' }).port, 8080);
    assert.throws(() => loadConfig({ PORT: '70000' }), /PORT must be an integer/);
  });

  it('public address defaults to the listening host (one host for the pages, the sign-in redirect and its CSP)', () => {
    assert.equal(loadConfig({}).publicBaseUrl, 'http://127.0.0.1:3000');
    assert.equal(loadConfig({ PORT: '8080' }).publicBaseUrl, 'http://127.0.0.1:8080');
    assert.equal(loadConfig({ HOST: 'localhost' }).publicBaseUrl, 'http://localhost:3000');
    assert.equal(loadConfig({ HOST: '0.0.0.0' }).publicBaseUrl, 'http://127.0.0.1:3000');
    assert.equal(loadConfig({ HOST: '::1' }).publicBaseUrl, 'http://[::1]:3000');
    assert.equal(loadConfig({ PUBLIC_BASE_URL: 'https://guichet.example/' }).publicBaseUrl, 'https://guichet.example');
  });
});
