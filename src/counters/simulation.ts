/**
 * Discrete-event simulation of a day at an office, driven by the PRODUCTION routing policy (./routing.ts):
 * arrivals per service and hour (Poisson), service times from a distribution, counters with organisations, skills and
 * languages. The same arrivals (common random numbers) are replayed under each collaboration model (separate queues
 * per organisation vs a pooled shared counter) and each routing policy.
 */
import { POLICIES, selectNext, type CallingCounter, type Pooling, type Priority, type RoutingPolicy, type WaitingTicket } from './routing';

export type ServiceTime =
  | { dist: 'exponential'; meanMin: number }
  | { dist: 'lognormal'; meanMin: number; sdMin: number }
  | { dist: 'fixed'; meanMin: number }
  | { dist: 'uniform'; minMin: number; maxMin: number };

export interface ScenarioService {
  id: string;
  org: string;
  /** Arrivals per hour: one number for the whole day, or one per opening hour (the last value repeats). */
  arrivalsPerHour: number | number[];
  serviceTime: ServiceTime;
  /** Language shares, e.g. { en: 0.7, fr: 0.3 } (default all 'en'). */
  languages?: Record<string, number>;
  accessibilityShare?: number;
}

export interface ScenarioCounters {
  org: string;
  count: number;
  languages?: string[];
  skills?: string[];
}

export interface Scenario {
  name: string;
  seed?: number;
  /** Opening time 'HH:MM' (labels only) and length of the day in hours. */
  opens?: string;
  hours: number;
  /** Hours at the start excluded from statistics (steady-state studies). */
  warmupHours?: number;
  targetMinutes: number;
  targetShare?: number;
  services: ScenarioService[];
  counters: ScenarioCounters[];
  models?: Pooling[];
  policies?: string[];
  replications?: number;
}

export interface SimTicket extends WaitingTicket {
  arrivalMin: number;
  serviceMin: number;
}

export interface SimResult {
  model: Pooling;
  policy: string;
  served: number;
  meanWaitMin: number;
  p90WaitMin: number;
  maxWaitMin: number;
  withinTarget: number; // share 0..1
  utilisation: number;
  byHour: Array<{ hour: number; arrivals: number; meanWaitMin: number }>;
  byService: Record<string, { served: number; meanWaitMin: number; p90WaitMin: number }>;
  byPriority: Record<string, { served: number; meanWaitMin: number }>;
}

/** Seeded PRNG (mulberry32). */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function normal(r: () => number): number {
  const u = Math.max(r(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r());
}

export function drawServiceTime(st: ServiceTime, r: () => number): number {
  switch (st.dist) {
    case 'exponential':
      return -Math.log(1 - r()) * st.meanMin;
    case 'fixed':
      return st.meanMin;
    case 'uniform':
      return st.minMin + r() * (st.maxMin - st.minMin);
    case 'lognormal': {
      const s2 = Math.log(1 + (st.sdMin * st.sdMin) / (st.meanMin * st.meanMin));
      return Math.exp(Math.log(st.meanMin) - s2 / 2 + Math.sqrt(s2) * normal(r));
    }
  }
}

function rateAt(a: number | number[], hour: number): number {
  if (typeof a === 'number') return a;
  if (!a.length) return 0;
  return a[Math.min(hour, a.length - 1)];
}

function pickWeighted(weights: Record<string, number> | undefined, r: () => number): string {
  if (!weights) return 'en';
  const entries = Object.entries(weights);
  const total = entries.reduce((s, [, w]) => s + w, 0);
  let x = r() * total;
  for (const [k, w] of entries) {
    x -= w;
    if (x <= 0) return k;
  }
  return entries[entries.length - 1][0];
}

/** Arrivals of one day (minutes from opening), Poisson per service with a piecewise-constant hourly rate. */
export function generateArrivals(sc: Scenario, seed: number): SimTicket[] {
  const r = rng(seed);
  const out: SimTicket[] = [];
  let n = 0;
  for (const svc of sc.services) {
    for (let h = 0; h < Math.ceil(sc.hours); h++) {
      const rate = rateAt(svc.arrivalsPerHour, h) / 60; // per minute
      if (rate <= 0) continue;
      const end = Math.min(sc.hours, h + 1) * 60;
      let t = h * 60;
      for (;;) {
        t += -Math.log(1 - r()) / rate;
        if (t >= end) break;
        const priority: Priority = r() < (svc.accessibilityShare ?? 0) ? 'accessibility' : 'none';
        out.push({
          id: `t${++n}`,
          serviceId: svc.id,
          orgId: svc.org,
          language: pickWeighted(svc.languages, r),
          priority,
          queuedAt: t * 60000,
          arrivalMin: t,
          serviceMin: drawServiceTime(svc.serviceTime, r),
        });
      }
    }
  }
  out.sort((a, b) => a.arrivalMin - b.arrivalMin);
  return out;
}

/** Min-heap of events keyed by time. */
class Heap<T> {
  private a: Array<[number, number, T]> = [];
  private n = 0;
  get size() {
    return this.a.length;
  }
  push(k: number, v: T) {
    const a = this.a;
    a.push([k, this.n++, v]);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (a[p][0] < a[i][0] || (a[p][0] === a[i][0] && a[p][1] < a[i][1])) break;
      [a[p], a[i]] = [a[i], a[p]];
      i = p;
    }
  }
  pop(): [number, T] | undefined {
    const a = this.a;
    if (!a.length) return undefined;
    const top = a[0];
    const last = a.pop()!;
    if (a.length) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        const less = (x: number, y: number) => a[x][0] < a[y][0] || (a[x][0] === a[y][0] && a[x][1] < a[y][1]);
        if (l < a.length && less(l, m)) m = l;
        if (r < a.length && less(r, m)) m = r;
        if (m === i) break;
        [a[m], a[i]] = [a[i], a[m]];
        i = m;
      }
    }
    return [top[0], top[2]];
  }
}

export function buildCounters(sc: Scenario): CallingCounter[] {
  const out: CallingCounter[] = [];
  let k = 0;
  for (const g of sc.counters) {
    for (let i = 0; i < g.count; i++) {
      out.push({ counterId: `c${++k}`, counterOrgId: g.org, agentOrgIds: [g.org], skills: g.skills ?? [], languages: g.languages ?? [] });
    }
  }
  return out;
}

function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return 0;
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1));
  return sorted[idx];
}

/** One simulated day under one model and policy, on the given arrivals. */
export function simulateDay(sc: Scenario, arrivals: readonly SimTicket[], model: Pooling, policy: RoutingPolicy): SimResult {
  const counters = buildCounters(sc);
  const idle = new Set<number>(counters.map((_, i) => i));
  const waiting: SimTicket[] = [];
  const heap = new Heap<{ kind: 'arrival'; t: SimTicket } | { kind: 'done'; counter: number }>();
  for (const t of arrivals) heap.push(t.arrivalMin, { kind: 'arrival', t });
  const waits: Array<{ t: SimTicket; wait: number }> = [];
  let busyMin = 0;
  let lastTime = 0;
  const ctx = { now: 0, pooling: model, policy };

  const start = (ci: number, t: SimTicket, now: number) => {
    const i = waiting.indexOf(t);
    waiting.splice(i, 1);
    idle.delete(ci);
    waits.push({ t, wait: now - t.arrivalMin });
    busyMin += t.serviceMin;
    heap.push(now + t.serviceMin, { kind: 'done', counter: ci });
  };

  for (;;) {
    const ev = heap.pop();
    if (!ev) break;
    const [now, e] = ev;
    lastTime = now;
    ctx.now = now * 60000;
    if (e.kind === 'arrival') {
      waiting.push(e.t);
      for (const ci of idle) {
        const next = selectNext(waiting, counters[ci], ctx) as SimTicket | null;
        if (next) {
          start(ci, next, now);
          break;
        }
      }
    } else {
      idle.add(e.counter);
      const next = selectNext(waiting, counters[e.counter], ctx) as SimTicket | null;
      if (next) start(e.counter, next, now);
    }
  }

  const warm = (sc.warmupHours ?? 0) * 60;
  const kept = waits.filter((w) => w.t.arrivalMin >= warm);
  const all = kept.map((w) => w.wait).sort((a, b) => a - b);
  const mean = (xs: number[]) => (xs.length ? xs.reduce((s, x) => s + x, 0) / xs.length : 0);
  const hourSum = new Array<number>(Math.ceil(sc.hours)).fill(0);
  const hourN = new Array<number>(Math.ceil(sc.hours)).fill(0);
  for (const w of kept) {
    const h = Math.min(hourN.length - 1, Math.floor(w.t.arrivalMin / 60));
    hourSum[h] += w.wait;
    hourN[h]++;
  }
  const byHour: SimResult['byHour'] = hourN.length <= 48 ? hourN.map((n, h) => ({ hour: h, arrivals: n, meanWaitMin: n ? hourSum[h] / n : 0 })) : [];
  const byService: SimResult['byService'] = {};
  for (const svc of sc.services) {
    const ws = kept.filter((w) => w.t.serviceId === svc.id).map((w) => w.wait).sort((a, b) => a - b);
    byService[svc.id] = { served: ws.length, meanWaitMin: mean(ws), p90WaitMin: percentile(ws, 0.9) };
  }
  const byPriority: SimResult['byPriority'] = {};
  for (const p of ['none', 'accessibility', 'appointment']) {
    const ws = kept.filter((w) => w.t.priority === p).map((w) => w.wait);
    if (ws.length) byPriority[p] = { served: ws.length, meanWaitMin: mean(ws) };
  }
  return {
    model,
    policy: policy.name,
    served: kept.length,
    meanWaitMin: mean(all),
    p90WaitMin: percentile(all, 0.9),
    maxWaitMin: all.length ? all[all.length - 1] : 0,
    withinTarget: all.length ? all.filter((w) => w <= sc.targetMinutes).length / all.length : 1,
    utilisation: lastTime > 0 ? busyMin / (counters.length * lastTime) : 0,
    byHour,
    byService,
    byPriority,
  };
}

export interface ScenarioReport {
  scenario: Scenario;
  results: SimResult[];
}

/** Run every model × policy over `replications` days of common arrivals; results are averaged over the days. */
export function runScenario(sc: Scenario): ScenarioReport {
  validateScenario(sc);
  const models = sc.models ?? ['separate', 'pooled'];
  const policies = sc.policies ?? ['fifo', 'priority'];
  const reps = sc.replications ?? 1;
  const days = Array.from({ length: reps }, (_, i) => generateArrivals(sc, (sc.seed ?? 1) + i * 7919));
  const results: SimResult[] = [];
  for (const m of models) {
    for (const pn of policies) {
      const per = days.map((d) => simulateDay(sc, d, m, POLICIES[pn]));
      results.push(average(per));
    }
  }
  return { scenario: sc, results };
}

function average(rs: SimResult[]): SimResult {
  if (rs.length === 1) return rs[0];
  const avg = (f: (r: SimResult) => number) => rs.reduce((s, r) => s + f(r), 0) / rs.length;
  const base = rs[0];
  return {
    ...base,
    served: avg((r) => r.served),
    meanWaitMin: avg((r) => r.meanWaitMin),
    p90WaitMin: avg((r) => r.p90WaitMin),
    maxWaitMin: Math.max(...rs.map((r) => r.maxWaitMin)),
    withinTarget: avg((r) => r.withinTarget),
    utilisation: avg((r) => r.utilisation),
    byHour: base.byHour.map((h, i) => ({ hour: h.hour, arrivals: avg((r) => r.byHour[i].arrivals), meanWaitMin: avg((r) => r.byHour[i].meanWaitMin) })),
    byService: Object.fromEntries(
      Object.keys(base.byService).map((k) => [k, { served: avg((r) => r.byService[k].served), meanWaitMin: avg((r) => r.byService[k].meanWaitMin), p90WaitMin: avg((r) => r.byService[k].p90WaitMin) }]),
    ),
    byPriority: Object.fromEntries(
      Object.keys(base.byPriority).map((k) => [k, { served: avg((r) => r.byPriority[k]?.served ?? 0), meanWaitMin: avg((r) => r.byPriority[k]?.meanWaitMin ?? 0) }]),
    ),
  };
}

export class ScenarioError extends Error {}

export function validateScenario(sc: Scenario): void {
  const fail = (m: string) => {
    throw new ScenarioError(m);
  };
  if (!sc || typeof sc !== 'object') fail('scenario must be an object');
  if (!(sc.hours > 0 && sc.hours <= 24 * 365)) fail('hours must be a positive number');
  if (!(sc.targetMinutes >= 0)) fail('targetMinutes must be a number >= 0');
  if (!Array.isArray(sc.services) || !sc.services.length) fail('services must be a non-empty list');
  if (!Array.isArray(sc.counters) || !sc.counters.length) fail('counters must be a non-empty list');
  for (const s of sc.services) {
    if (!s.id || !s.org) fail('each service needs an id and an org');
    const rates = typeof s.arrivalsPerHour === 'number' ? [s.arrivalsPerHour] : s.arrivalsPerHour;
    if (!Array.isArray(rates) || rates.some((x) => !(x >= 0))) fail(`service ${s.id}: arrivalsPerHour must be numbers >= 0`);
    const st = s.serviceTime;
    if (!st || !['exponential', 'lognormal', 'fixed', 'uniform'].includes(st.dist)) fail(`service ${s.id}: serviceTime.dist must be exponential, lognormal, fixed or uniform`);
    if (st.dist !== 'uniform' && !((st as { meanMin: number }).meanMin > 0)) fail(`service ${s.id}: serviceTime.meanMin must be > 0`);
  }
  for (const c of sc.counters) if (!c.org || !(c.count >= 0)) fail('each counter group needs an org and a count >= 0');
  for (const p of sc.policies ?? []) if (!POLICIES[p]) fail(`unknown policy ${p} (known: ${Object.keys(POLICIES).join(', ')})`);
  for (const m of sc.models ?? []) if (m !== 'separate' && m !== 'pooled') fail(`unknown model ${m} (separate or pooled)`);
}
