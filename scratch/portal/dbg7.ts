import fs from 'node:fs';
import http from 'node:http';
import { chromium } from 'playwright-core';
import { CHROMIUM_ARGS } from '../../test/browser/support/browser';
const AXE = fs.readFileSync('node_modules/axe-core/axe.min.js', 'utf8');
const html = `<html lang="en"><title>x</title><body><script>document.body.className='j'</script><main><h1>hi</h1></main></body></html>`;
const srv = http.createServer((req, res) => { res.setHeader('content-type','text/html'); res.end(html); });
await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
const base = `http://127.0.0.1:${(srv.address() as any).port}`;
const b = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
const tries: Array<[string, string]> = [['small', '1+1'], ['text', 'document.querySelector("h1").textContent'], ['scriptcount', 'document.scripts.length'], ['func', '(function(){ var s = 0; for (var i=0;i<10;i++) s+=i; return s })()'], ['axe', AXE]];
for (const [name, src] of tries) {
  const c = await b.newContext({ javaScriptEnabled: false });
  const p = await c.newPage();
  await p.goto(base + '/');
  try { console.log(name, await Promise.race([p.evaluate(src).then((v) => String(v).slice(0, 30)), new Promise((r) => setTimeout(() => r('TIMEOUT'), 20000))])); } catch (e) { console.log(name, 'FAIL', String(e).slice(0, 80)); }
  await c.close().catch(() => {});
}
await b.close(); srv.close();
