import fs from 'node:fs';
import http from 'node:http';
import { chromium } from 'playwright-core';
import { CHROMIUM_ARGS } from '../../test/browser/support/browser';
const AXE = fs.readFileSync('node_modules/axe-core/axe.min.js', 'utf8');
const pages: Record<string, string> = {
  '/script': `<html lang="en"><title>x</title><body><script>document.body.className='j'</script><main><h1>hi</h1></main></body></html>`,
  '/img': `<html lang="en"><title>x</title><body><main><h1>hi</h1><img src="x.png"></main></body></html>`,
  '/module': `<html lang="en"><title>x</title><body><main><h1>hi</h1></main><script type="module" src="/m.js"></script></body></html>`,
  '/link': `<html lang="en"><title>x</title><link rel="stylesheet" href="/s.css"><body><main><h1>hi</h1></main></body></html>`,
};
const srv = http.createServer((req, res) => { const h = pages[req.url!]; if (!h) { res.statusCode = 404; res.end(''); return; } res.setHeader('content-type','text/html'); res.end(h); });
await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
const base = `http://127.0.0.1:${(srv.address() as any).port}`;
const b = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
for (const u of Object.keys(pages)) for (const js of [true, false]) {
  const c = await b.newContext({ javaScriptEnabled: js });
  const p = await c.newPage();
  await p.goto(base + u);
  try { await p.evaluate(AXE); const n = await p.evaluate(async () => (await (window as any).axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a'] } })).violations.length); console.log(u, js, 'ok', n); } catch (e) { console.log(u, js, 'FAIL', String(e).slice(0, 100)); }
  await c.close();
}
await b.close(); srv.close();
