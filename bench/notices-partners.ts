/**
 * The ten partner receivers of `npm run bench:notices`, in their own process: partner systems are other
 * organisations' servers, so their work (TLS-free HTTP, HMAC verification, dedup on the Idempotency-Key) does not
 * share Guichet's event loop. Started by bench/notices.ts over IPC; answers counts and, at the end, every delivery.
 */
import { startPartner, type Partner } from '../test/support/partners';

type Msg = { type: 'secret'; i: number; secret: string } | { type: 'count'; seq: number } | { type: 'dump'; seq: number } | { type: 'close' };

const n = Number(process.env.BENCH_PARTNERS ?? 10);
const partners: Partner[] = [];
for (let i = 0; i < n; i++) partners.push(await startPartner({ behaviour: 'fast' }));
process.send!({ type: 'ready', urls: partners.map((p) => p.url) });
process.on('message', async (m: Msg) => {
  if (m.type === 'secret') partners[m.i].setSecret(m.secret);
  else if (m.type === 'count') process.send!({ type: 'count', seq: m.seq, n: partners.reduce((a, p) => a + p.applied.size, 0) });
  else if (m.type === 'dump') {
    process.send!({
      type: 'dump',
      seq: m.seq,
      partners: partners.map((p) => ({ applied: [...p.applied], appliedAt: [...p.appliedAt], attempts: [...p.attempts], badSignatures: p.badSignatures })),
    });
  } else if (m.type === 'close') {
    for (const p of partners) await p.close();
    process.exit(0);
  }
});
