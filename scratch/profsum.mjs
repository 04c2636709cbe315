import fs from 'node:fs';
const p = JSON.parse(fs.readFileSync(process.argv[2]));
const byId = new Map(p.nodes.map(n => [n.id, n]));
const self = new Map();
const dt = p.timeDeltas; let total = 0;
const counts = new Map();
for (let i = 0; i < p.samples.length; i++) { counts.set(p.samples[i], (counts.get(p.samples[i]) ?? 0) + (dt[i] ?? 0)); total += dt[i] ?? 0; }
const parent = new Map();
for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const fileSelf = new Map(); const fnSelf = new Map(); const incl = new Map();
for (const [id, t] of counts) {
  const n = byId.get(id); const cf = n.callFrame;
  const f = (cf.url || '(native)').replace(/.*node_modules\//, 'nm/').replace(/.*\/work\/main\//, '');
  const key = f.split('/').slice(0, f.startsWith('nm/') ? 2 : 3).join('/');
  fileSelf.set(key, (fileSelf.get(key) ?? 0) + t);
  const fk = `${cf.functionName || '(anon)'} ${f}:${cf.lineNumber}`;
  fnSelf.set(fk, (fnSelf.get(fk) ?? 0) + t);
  // inclusive by our src functions
  const seen = new Set(); let cur = id;
  while (cur != null) { const nn = byId.get(cur); const u = nn.callFrame.url; if (u.includes('/work/main/src/')) { const k = `${nn.callFrame.functionName} ${u.replace(/.*\/work\/main\//,'')}:${nn.callFrame.lineNumber}`; if (!seen.has(k)) { seen.add(k); incl.set(k, (incl.get(k) ?? 0) + t); } } cur = parent.get(cur); }
}
const top = (m, k) => [...m].sort((a, b) => b[1] - a[1]).slice(0, k).map(([n, t]) => `${(t / 1000).toFixed(0).padStart(7)}ms ${(100 * t / total).toFixed(1).padStart(5)}% ${n}`).join('\n');
console.log('total', (total / 1000).toFixed(0), 'ms');
console.log('--- by module\n' + top(fileSelf, 25));
console.log('--- by function (self)\n' + top(fnSelf, 30));
console.log('--- inclusive src functions\n' + top(incl, 30));
