/**
 * `npm run simulate -- <scenario.json> [--out report.html]`: simulate a day at an office under each collaboration
 * model and routing policy (production routing code), print mean / 90th-percentile waits and the share served within
 * the target, and write an HTML report with Chart.js charts (Chart.js copied next to the report).
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runScenario, ScenarioError, type Scenario } from './simulation';
import { writeReport } from './report';
import { meanWaitMin, serviceLevel } from './erlang';

const args = process.argv.slice(2);
const file = args.find((a) => !a.startsWith('--'));
const outIdx = args.indexOf('--out');
if (!file) {
  console.error('usage: npm run simulate -- <scenario.json> [--out report.html]');
  process.exit(2);
}
let scenario: Scenario;
try {
  scenario = JSON.parse(fs.readFileSync(file, 'utf8'));
} catch (e) {
  console.error(`cannot read ${file}: ${(e as Error).message}`);
  process.exit(2);
}
try {
  const started = Date.now();
  const report = runScenario(scenario);
  const pad = (s: string, n: number) => s.padEnd(n);
  console.log(`${scenario.name}: ${scenario.hours} h, target ${scenario.targetMinutes} min, ${scenario.replications ?? 1} day(s)`);
  console.log(`${pad('model', 10)}${pad('policy', 10)}${pad('served', 9)}${pad('mean', 8)}${pad('p90', 8)}${pad('within', 8)}util`);
  for (const r of report.results) {
    console.log(
      `${pad(r.model, 10)}${pad(r.policy, 10)}${pad(String(Math.round(r.served)), 9)}${pad(r.meanWaitMin.toFixed(1), 8)}${pad(r.p90WaitMin.toFixed(1), 8)}${pad((r.withinTarget * 100).toFixed(1) + '%', 8)}${(r.utilisation * 100).toFixed(0)}%`,
    );
  }
  const out = outIdx >= 0 && args[outIdx + 1] ? args[outIdx + 1] : path.join(path.dirname(path.resolve(file)), `${path.basename(file, '.json')}-report.html`);
  writeReport(report, out);
  const sep = report.results.filter((r) => r.model === 'separate');
  const pool = report.results.filter((r) => r.model === 'pooled');
  if (sep[0] && pool[0] && pool[0].meanWaitMin > 0) console.log(`pooled_wait_gain=${(sep[0].meanWaitMin / pool[0].meanWaitMin).toFixed(2)} (${sep[0].policy})`);
  const only = scenario.services.length === 1 ? scenario.services[0] : null;
  if (only && only.serviceTime.dist === 'exponential' && typeof only.arrivalsPerHour === 'number') {
    const p = { arrivalsPerHour: only.arrivalsPerHour, meanServiceMin: only.serviceTime.meanMin, counters: scenario.counters.reduce((n, c) => n + c.count, 0) };
    console.log(`Erlang C (M/M/${p.counters}): mean wait ${meanWaitMin(p).toFixed(2)} min, within ${scenario.targetMinutes} min ${(serviceLevel(p, scenario.targetMinutes) * 100).toFixed(1)}%`);
  }
  console.log(`report: ${out} (${Date.now() - started} ms)`);
} catch (e) {
  if (e instanceof ScenarioError) {
    console.error(`invalid scenario: ${e.message}`);
    process.exit(2);
  }
  throw e;
}
void fileURLToPath;
