import fs from 'node:fs';
import { chromium } from 'playwright-core';
import { CHROMIUM_ARGS } from '../../test/browser/support/browser';
const AXE = fs.readFileSync('node_modules/axe-core/axe.min.js', 'utf8');
const b = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
for (const js of [true, false]) {
  const c = await b.newContext({ javaScriptEnabled: js });
  const p = await c.newPage();
  p.on('crash', () => console.log('crash'));
  await p.setContent('<html lang="en"><title>x</title><main><h1>hi</h1><img src="x.png"></main></html>');
  try {
    await p.evaluate(AXE);
    const r = await p.evaluate(async () => (await (window as any).axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a'] } })).violations.length);
    console.log(js, 'ok', r);
  } catch (e) { console.log(js, 'fail', String(e).slice(0, 300)); }
  try {
    await p.addScriptTag({ content: AXE });
    const r = await p.evaluate(async () => (await (window as any).axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a'] } })).violations.length);
    console.log(js, 'tag ok', r);
  } catch (e) { console.log(js, 'tag fail', String(e).slice(0, 300)); }
}
await b.close();
