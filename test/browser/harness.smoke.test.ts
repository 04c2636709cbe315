import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startBrowserEnv, assertNoA11yViolations, signInStaff, checkA11y, type BrowserEnv } from './support/browser';
let env: BrowserEnv;
before(async () => { env = await startBrowserEnv(); });
after(async () => { await env?.close(); });
test('harness', async () => {
  const page = await env.newPage({ javaScriptEnabled: false });
  await page.goto(env.url('/en'));
  console.log(await checkA11y(page, { all: true }));
  await signInStaff(page, env, 'staff-reviewer');
  assert.match(await page.content(), /Renée/);
  await assertNoA11yViolations(page);
});
