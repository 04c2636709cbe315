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
for (const mode of ['nojs-run', 'nojs-cdp-toggle']) {
  const c = await b.newContext({ javaScriptEnabled: mode === 'nojs-run' ? false : true });
  const p = await c.newPage();
  p.on('crash', () => console.log('crash!'));
  const cdp = await c.newCDPSession(p);
  if (mode !== 'nojs-run') await cdp.send('Emulation.setScriptExecutionDisabled', { value: true });
  await p.goto(base + '/');
  console.log(mode, 'class', JSON.stringify(await p.evaluate('document.body.className')));
  if (mode !== 'nojs-run') await cdp.send('Emulation.setScriptExecutionDisabled', { value: false });
  await p.evaluate(AXE);
  try { console.log(mode, await Promise.race([p.evaluate(async () => (await (window as any).axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a'] } })).violations.length), new Promise((r) => setTimeout(() => r('TIMEOUT'), 20000))])); } catch (e) { console.log(mode, 'FAIL', String(e).slice(0, 80)); }
  console.log(mode, 'class after', JSON.stringify(await p.evaluate('document.body.className').catch(e => 'x')));
  await c.close().catch(() => {});
}
await b.close(); srv.close();
