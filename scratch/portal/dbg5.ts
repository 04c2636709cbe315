import fs from 'node:fs';
import http from 'node:http';
import { chromium } from 'playwright-core';
import { CHROMIUM_ARGS } from '../../test/browser/support/browser';
const AXE = fs.readFileSync('node_modules/axe-core/axe.min.js', 'utf8');
const srv = http.createServer((req, res) => { res.setHeader('content-type','text/html'); if (req.url!.includes('csp')) res.setHeader('Content-Security-Policy', "default-src 'self'; script-src 'self' 'nonce-abc'"); res.end(`<html lang="en"><title>x</title><body><main><h1>hi</h1></main></body></html>`); });
await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
const base = `http://127.0.0.1:${(srv.address() as any).port}`;
const b = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
for (const [u, js] of [['/plain', true], ['/csp', true], ['/plain', false], ['/csp', false]] as const) {
  const c = await b.newContext({ javaScriptEnabled: js, bypassCSP: false });
  const p = await c.newPage();
  p.on('crash', () => console.log('  crash event'));
  await p.goto(base + u);
  for (const [name, src] of [['small', 'window.x = 1; 2'], ['axe', AXE]] as const) {
    try { await p.evaluate(src as string); console.log(u, js, name, 'ok'); } catch (e) { console.log(u, js, name, 'FAIL', String(e).slice(0, 100)); break; }
  }
  await c.close();
}
await b.close(); srv.close();
