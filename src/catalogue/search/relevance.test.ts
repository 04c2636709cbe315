/**
 * Relevance: mean reciprocal rank of the first right answer in the top 10, over questions phrased as clients type
 * them (relevance-set.ts), on the real GC Service Inventory. Fails below 0.8.
 */
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { createTestApp, type TestApp } from '../../../test/support/app';
import { RELEVANCE_SET } from './relevance-set';

let ctx: TestApp;
before(async () => {
  ctx = await createTestApp({ catalogue: true });
});
after(async () => {
  await ctx?.close();
});

it('has at least 40 French and English client questions whose expected services exist', async () => {
  assert.ok(RELEVANCE_SET.length >= 40);
  assert.ok(RELEVANCE_SET.filter((c) => c.lang === 'fr').length >= 20);
  assert.ok(RELEVANCE_SET.filter((c) => c.lang === 'en').length >= 20);
  const ids = [...new Set(RELEVANCE_SET.flatMap((c) => c.expected))];
  const rows = await ctx.db.selectFrom('services').select('id').where('id', 'in', ids).where('source', '=', 'gc-inventory').execute();
  assert.deepEqual(rows.map((r) => r.id).sort(), ids.sort(), 'every expected service is a real GC service');
});

it('ranks the right services first: MRR >= 0.8', async () => {
  let sum = 0;
  const misses: string[] = [];
  for (const c of RELEVANCE_SET) {
    const res = await ctx.app.inject({ method: 'GET', url: `/api/v1/services?q=${encodeURIComponent(c.q)}&lang=${c.lang}&pageSize=10` });
    assert.equal(res.statusCode, 200);
    const items = (res.json() as { items: Array<{ id: string }> }).items;
    const rank = items.findIndex((i) => c.expected.includes(i.id)) + 1;
    sum += rank ? 1 / rank : 0;
    if (rank !== 1) misses.push(`  rank ${rank || '>10'}: "${c.q}" (${c.lang}, ${c.note}) -> ${items.slice(0, 3).map((i) => i.id).join(', ')}`);
  }
  const mrr = sum / RELEVANCE_SET.length;
  console.log(`search relevance: MRR=${mrr.toFixed(3)} over ${RELEVANCE_SET.length} queries; not first:\n${misses.join('\n')}`);
  assert.ok(mrr >= 0.8, `MRR ${mrr.toFixed(3)} < 0.8`);
});

it('finds the services of a situation by the life event\'s name and everyday words, without unrelated services (issue 16)', async () => {
  const ids = async (q: string, lang: 'en' | 'fr') => {
    const res = await ctx.app.inject({ method: 'GET', url: `/api/v1/services?q=${encodeURIComponent(q)}&lang=${lang}&pageSize=10` });
    assert.equal(res.statusCode, 200);
    return (res.json() as { items: Array<{ id: string }> }).items.map((i) => i.id);
  };
  const event = (await ctx.db.selectFrom('event_steps').select('service_id').where('event_id', '=', 'losing-a-job').execute()).map((r) => r.service_id);
  // the French life event's own name brings Employment Insurance into the top five
  const fr = await ids('perdre son emploi', 'fr');
  assert.ok(fr.slice(0, 5).includes('gc-1003'), `perdre son emploi: ${fr}`);
  // "lost my job": the situation's services, not services that merely mention employment insurance in passing
  const en = await ids('lost my job', 'en');
  assert.ok(en.slice(0, 5).includes('gc-1003'), `lost my job: ${en}`);
  for (const noise of ['gc-1095', 'gc-SRV02927', 'gc-904', 'gc-902', 'gc-1254']) assert.ok(!en.includes(noise), `${noise} in "lost my job": ${en}`);
  assert.ok(en.slice(0, 4).every((id) => event.includes(id)), `the first four are the life event's services: ${en}`);
});
