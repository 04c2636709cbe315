/** The simulation's HTML report: tables plus Chart.js charts (chart.umd.min.js copied next to the report). */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ScenarioReport } from './simulation';

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

export function chartJsPath(): string {
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../node_modules/chart.js/dist/chart.umd.min.js');
}

export function reportHtml(report: ScenarioReport, chartSrc = 'chart.umd.min.js'): string {
  const sc = report.scenario;
  const labels = report.results.map((r) => `${r.model} / ${r.policy}`);
  const openH = sc.opens ? Number(sc.opens.slice(0, 2)) : 0;
  const openM = sc.opens ? sc.opens.slice(3, 5) : '00';
  const hours = report.results[0].byHour.map((h) => `${String((openH + h.hour) % 24).padStart(2, '0')}:${openM}`);
  const data = {
    labels,
    mean: report.results.map((r) => +r.meanWaitMin.toFixed(2)),
    p90: report.results.map((r) => +r.p90WaitMin.toFixed(2)),
    within: report.results.map((r) => +(r.withinTarget * 100).toFixed(1)),
    hours,
    arrivals: report.results[0].byHour.map((h) => h.arrivals),
    byHour: report.results.map((r) => ({ label: `${r.model} / ${r.policy}`, data: r.byHour.map((h) => +h.meanWaitMin.toFixed(2)) })),
  };
  const rows = report.results
    .map((r) => `<tr><th scope="row">${esc(r.model)} / ${esc(r.policy)}</th><td>${Math.round(r.served)}</td><td>${r.meanWaitMin.toFixed(1)}</td><td>${r.p90WaitMin.toFixed(1)}</td><td>${(r.withinTarget * 100).toFixed(1)}%</td><td>${(r.utilisation * 100).toFixed(0)}%</td></tr>`)
    .join('\n');
  const svcRows = report.results
    .flatMap((r) => Object.entries(r.byService).map(([id, s]) => `<tr><th scope="row">${esc(r.model)} / ${esc(r.policy)}</th><td>${esc(id)}</td><td>${Math.round(s.served)}</td><td>${s.meanWaitMin.toFixed(1)}</td><td>${s.p90WaitMin.toFixed(1)}</td></tr>`))
    .join('\n');
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Simulation: ${esc(sc.name)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font-family:system-ui,sans-serif;max-width:1000px;margin:2rem auto;padding:0 1rem;color:#0b0c0c}table{border-collapse:collapse;margin:1rem 0}th,td{border-bottom:1px solid #b1b4b6;padding:.4rem .8rem;text-align:right}th:first-child,td:first-child{text-align:left}.chart{position:relative;height:320px;margin:1.5rem 0}</style>
</head><body><main>
<h1>Simulation: ${esc(sc.name)}</h1>
<p>${sc.hours} hours, ${sc.replications ?? 1} simulated day(s) with the same arrivals under every model and policy; target: served within ${sc.targetMinutes} minutes. Routing by the production policy module (src/counters/routing.ts).</p>
<h2>Results</h2>
<table id="results"><caption>Waits in minutes per collaboration model and routing policy</caption>
<thead><tr><th scope="col">model / policy</th><th scope="col">served</th><th scope="col">mean wait</th><th scope="col">90th percentile</th><th scope="col">within target</th><th scope="col">utilisation</th></tr></thead>
<tbody>${rows}</tbody></table>
<h2>Charts</h2>
<div class="chart"><canvas id="chart-waits" role="img" aria-label="Mean and 90th-percentile wait per model and policy (data in the results table)"></canvas></div>
<div class="chart"><canvas id="chart-within" role="img" aria-label="Share served within the target per model and policy (data in the results table)"></canvas></div>
<div class="chart"><canvas id="chart-hours" role="img" aria-label="Mean wait by hour of arrival per model and policy"></canvas></div>
<h2>By service</h2>
<table id="by-service"><thead><tr><th scope="col">model / policy</th><th scope="col">service</th><th scope="col">served</th><th scope="col">mean wait</th><th scope="col">90th percentile</th></tr></thead><tbody>${svcRows}</tbody></table>
<h2>Scenario</h2>
<pre>${esc(JSON.stringify(sc, null, 2))}</pre>
</main>
<script src="${esc(chartSrc)}"></script>
<script>
const D = ${JSON.stringify(data).replace(/</g, '\\u003c')};
const palette = ['#1d70b8', '#d4351c', '#00703c', '#f47738', '#4c2c92', '#28a197', '#b58840', '#505a5f'];
window.charts = [
  new Chart(document.getElementById('chart-waits'), { type: 'bar', data: { labels: D.labels, datasets: [{ label: 'mean wait (min)', data: D.mean, backgroundColor: '#1d70b8' }, { label: '90th percentile (min)', data: D.p90, backgroundColor: '#d4351c' }] }, options: { maintainAspectRatio: false, animation: false } }),
  new Chart(document.getElementById('chart-within'), { type: 'bar', data: { labels: D.labels, datasets: [{ label: 'served within target (%)', data: D.within, backgroundColor: '#00703c' }] }, options: { maintainAspectRatio: false, animation: false, scales: { y: { min: 0, max: 100 } } } }),
  new Chart(document.getElementById('chart-hours'), { type: 'line', data: { labels: D.hours, datasets: D.byHour.map((s, i) => ({ label: s.label, data: s.data, borderColor: palette[i % palette.length], backgroundColor: palette[i % palette.length] })) }, options: { maintainAspectRatio: false, animation: false } }),
];
</script>
</body></html>
`;
}

export function writeReport(report: ScenarioReport, out: string): void {
  fs.mkdirSync(path.dirname(path.resolve(out)), { recursive: true });
  fs.writeFileSync(out, reportHtml(report));
  fs.copyFileSync(chartJsPath(), path.join(path.dirname(path.resolve(out)), 'chart.umd.min.js'));
}
