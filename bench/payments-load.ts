/**
 * Load generator of bench/payments.ts, in its own process (child_process.fork) so that it does not share the
 * server's event loop: CONNS HTTP connections send the development provider's signed "payment succeeded" webhooks for
 * pending payments `bench_1…bench_PENDING` during SECONDS, and the process sends back what it measured
 * ({ confirmed, errors, latencies, seconds, cpuMs }) to its parent.
 */
import { Pool } from 'undici';
import { sign, SIGNATURE_HEADER } from '../src/notices/signing';

const { url, conns, seconds, pending, secret } = JSON.parse(process.env.BENCH_LOAD ?? '{}') as { url: string; conns: number; seconds: number; pending: number; secret: string };
const pool = new Pool(url, { connections: conns, pipelining: 1 });
let next = 1;
let confirmed = 0;
let errors = 0;
const latencies: number[] = [];
const cpu0 = process.cpuUsage();
const t0 = Date.now();
const end = t0 + seconds * 1000;
const worker = async () => {
  while (Date.now() < end && next <= pending) {
    const n = next++;
    const body = JSON.stringify({ id: `evt_bench_${n}`, type: 'payment.succeeded', created: new Date().toISOString(), data: { payment_id: `bench_${n}`, amount: 10900, status: 'succeeded' } });
    const s = performance.now();
    try {
      const r = await pool.request({ method: 'POST', path: '/api/v1/payments/webhooks/dev', headers: { 'content-type': 'application/json', [SIGNATURE_HEADER]: sign(secret, body) }, body });
      const out = (await r.body.json()) as { outcome?: string };
      if (r.statusCode !== 200 || out.outcome !== 'confirmed') errors++;
      else confirmed++;
    } catch {
      errors++;
    }
    latencies.push(performance.now() - s);
  }
};
await Promise.all(Array.from({ length: conns }, worker));
const elapsed = (Date.now() - t0) / 1000;
const cpu = process.cpuUsage(cpu0);
await pool.close();
process.send!({ confirmed, errors, latencies, seconds: elapsed, cpuMs: (cpu.user + cpu.system) / 1000 }, () => process.exit(0));
