import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startBrowserEnv, assertNoA11yViolations, signInStaff, type BrowserEnv } from './browser';
let env: BrowserEnv;
before(async () => { env = await startBrowserEnv(); });
after(async () => { await env?.close(); });
test('harness', async () => {
  const page = await env.newPage({ javaScriptEnabled: false });
  await page.goto(env.url('/en'));
  assert.equal(await page.evaluate(() => document.body.className.includes('js-enabled')), false);
  await assertNoA11yViolations(page);
  await signInStaff(page, env, 'staff-reviewer');
  assert.match(await page.content(), /Renée/);
  const js = await env.newPage();
  await js.goto(env.url('/fr'));
  assert.equal(await js.evaluate(() => document.body.className.includes('js-enabled')), true);
  await assertNoA11yViolations(js);
});
