import { startBrowserEnv } from '../../test/browser/support/browser';
const env = await startBrowserEnv();
const page = await env.newPage({ viewport: { width: 1100, height: 900 } });
for (const [name, url] of [['service', '/en/services/demo-health-card'], ['gc', '/fr/services/gc-1242'], ['search', '/en/search?q=licence&level=municipal'], ['offices', '/en/offices?postcode=K1P1J1'], ['home', '/en']]) {
  await page.goto(env.url(url));
  await page.screenshot({ path: `scratch/portal/${name}.png`, fullPage: true });
}
await env.close();
