import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { countersNeeded, erlangC, meanWaitMin, serviceLevel, staffingPlan } from './erlang';
import { generateArrivals, runScenario, simulateDay, validateScenario, ScenarioError, type Scenario } from './simulation';
import { POLICIES, isEligible, rankTickets, selectNext, type CallingCounter, type WaitingTicket } from './routing';

const MIN = 60000;
const counter = (o: Partial<CallingCounter> = {}): CallingCounter => ({ counterId: 'c1', counterOrgId: null, agentOrgIds: ['guichet'], skills: [], languages: ['en', 'fr'], ...o });
const ticket = (id: string, waitedMin: number, o: Partial<WaitingTicket> = {}): WaitingTicket => ({ id, serviceId: 's1', orgId: 'ottawa', language: 'en', priority: 'none', queuedAt: 100 * MIN - waitedMin * MIN, ...o });
const now = 100 * MIN;

describe('routing policy', () => {
  it('calls the longest-waiting eligible ticket', () => {
    const next = selectNext([ticket('a', 3), ticket('b', 9), ticket('c', 5)], counter(), { now, pooling: 'pooled' });
    assert.equal(next?.id, 'b');
  });

  it('respects skills and language as hard constraints', () => {
    const ts = [ticket('fr-old', 20, { language: 'fr' }), ticket('other-service', 15, { serviceId: 's2' }), ticket('ok', 1)];
    const next = selectNext(ts, counter({ skills: ['s1'], languages: ['en'] }), { now, pooling: 'pooled' });
    assert.equal(next?.id, 'ok');
    assert.equal(selectNext([ticket('fr', 1, { language: 'fr' })], counter({ languages: ['en'] }), { now, pooling: 'pooled' }), null);
  });

  it('keeps separate queues per organisation unless the counter is shared or pooled', () => {
    const ts = [ticket('city', 10, { orgId: 'ottawa' }), ticket('prov', 5, { orgId: 'on-mto' })];
    const mto = counter({ counterOrgId: 'on-mto', agentOrgIds: ['on-mto'] });
    assert.equal(selectNext(ts, mto, { now, pooling: 'separate' })?.id, 'prov');
    assert.equal(selectNext(ts, mto, { now, pooling: 'pooled' })?.id, 'city');
    assert.equal(selectNext(ts, counter({ counterOrgId: null }), { now, pooling: 'separate' })?.id, 'city', 'shared counter serves everyone');
    // borrowed counter: an MTO counter staffed by an agent lent to the city serves city tickets too
    assert.equal(selectNext(ts, counter({ counterOrgId: 'on-mto', agentOrgIds: ['ottawa'] }), { now, pooling: 'separate' })?.id, 'city');
  });

  it('gives priority to accessibility needs and due appointments, with aging so nobody starves', () => {
    const ts = [ticket('walk', 10), ticket('access', 2, { priority: 'accessibility' }), ticket('appt', 0, { priority: 'appointment', appointmentAt: now + 2 * MIN })];
    assert.deepEqual(rankTickets(ts, counter(), { now, pooling: 'pooled', policy: POLICIES.priority }).map((t) => t.id), ['appt', 'access', 'walk']);
    assert.deepEqual(rankTickets(ts, counter(), { now, pooling: 'pooled', policy: POLICIES.fifo }).map((t) => t.id), ['walk', 'access', 'appt']);
    // an appointment far in the future gets no bonus yet
    assert.equal(selectNext([ticket('walk', 1), ticket('early', 0, { priority: 'appointment', appointmentAt: now + 60 * MIN })], counter(), { now, pooling: 'pooled' })?.id, 'walk');
    // aging: a regular ticket past the fairness cap beats any priority
    const old = ticket('old', 46);
    const fresh = Array.from({ length: 5 }, (_, i) => ticket(`p${i}`, 40, { priority: 'accessibility' }));
    assert.equal(selectNext([...fresh, old], counter(), { now, pooling: 'pooled' })?.id, 'old');
    assert.notEqual(selectNext([...fresh, old], counter(), { now, pooling: 'pooled', policy: POLICIES.strict })?.id, 'old');
  });

  it('sends a transferred ticket only to its target counter', () => {
    const t = ticket('x', 30, { targetCounterId: 'c2' });
    assert.equal(isEligible(t, counter({ counterId: 'c1' }), 'pooled'), false);
    assert.equal(isEligible(t, counter({ counterId: 'c2' }), 'pooled'), true);
  });
});

describe('Erlang C', () => {
  it('computes the textbook values', () => {
    // a = 4 Erlangs on 5 servers: P(wait) = 0.5541
    assert.ok(Math.abs(erlangC(5, 4) - 0.5541) < 0.001, String(erlangC(5, 4)));
    assert.equal(erlangC(3, 3), 1);
    const p = { arrivalsPerHour: 40, meanServiceMin: 6, counters: 5 };
    assert.ok(Math.abs(meanWaitMin(p) - 3.3246) < 0.01, String(meanWaitMin(p)));
    assert.ok(serviceLevel(p, 15) > 0.9 && serviceLevel(p, 15) < 1);
  });

  it('finds the counters needed for 80% within 15 minutes', () => {
    assert.equal(countersNeeded(40, 6, { share: 0.8, withinMin: 15 }), 5);
    assert.equal(countersNeeded(0, 6, { share: 0.8, withinMin: 15 }), 0);
    const c = countersNeeded(120, 12, { share: 0.8, withinMin: 15 })!;
    assert.ok(serviceLevel({ arrivalsPerHour: 120, meanServiceMin: 12, counters: c }, 15) >= 0.8);
    assert.ok(serviceLevel({ arrivalsPerHour: 120, meanServiceMin: 12, counters: c - 1 }, 15) < 0.8);
    const plan = staffingPlan([{ hour: '09:00', arrivalsPerHour: 40 }, { hour: '10:00', arrivalsPerHour: 80 }], 6, { share: 0.8, withinMin: 15 });
    assert.ok(plan[1].counters! > plan[0].counters!);
  });

  it('matches the simulator (production routing, M/M/c, FIFO) within 5%', () => {
    const sc: Scenario = {
      name: 'M/M/5', seed: 12345, hours: 4000, warmupHours: 50, targetMinutes: 5,
      services: [{ id: 's', org: 'o', arrivalsPerHour: 40, serviceTime: { dist: 'exponential', meanMin: 6 } }],
      counters: [{ org: 'o', count: 5 }],
    };
    const arrivals = generateArrivals(sc, sc.seed!);
    const r = simulateDay(sc, arrivals, 'pooled', POLICIES.fifo);
    const p = { arrivalsPerHour: 40, meanServiceMin: 6, counters: 5 };
    const wq = meanWaitMin(p);
    const sl = serviceLevel(p, 5);
    assert.ok(r.served > 150_000, `served ${r.served}`);
    assert.ok(Math.abs(r.meanWaitMin - wq) / wq < 0.05, `mean wait: simulated ${r.meanWaitMin.toFixed(3)} vs Erlang C ${wq.toFixed(3)}`);
    assert.ok(Math.abs(r.withinTarget - sl) / sl < 0.05, `service level: simulated ${r.withinTarget.toFixed(4)} vs Erlang C ${sl.toFixed(4)}`);
    assert.ok(Math.abs(r.utilisation - 0.8) < 0.02, `utilisation ${r.utilisation}`);
  });
});

describe('simulation of a shared office', () => {
  const sc: Scenario = {
    name: 'two partners', seed: 7, hours: 8, targetMinutes: 15,
    services: [
      { id: 'city', org: 'ottawa', arrivalsPerHour: [10, 14, 12, 8, 12, 14, 10, 6], serviceTime: { dist: 'lognormal', meanMin: 9, sdMin: 5 }, languages: { en: 0.6, fr: 0.4 }, accessibilityShare: 0.05 },
      { id: 'prov', org: 'on-mto', arrivalsPerHour: [14, 20, 16, 12, 16, 20, 14, 8], serviceTime: { dist: 'exponential', meanMin: 7 }, languages: { en: 0.6, fr: 0.4 } },
    ],
    counters: [{ org: 'ottawa', count: 2 }, { org: 'on-mto', count: 3 }],
    replications: 5,
  };
  it('shows that pooling the counters reduces waits on the same arrivals', () => {
    const rep = runScenario(sc);
    const sep = rep.results.find((r) => r.model === 'separate' && r.policy === 'fifo')!;
    const pool = rep.results.find((r) => r.model === 'pooled' && r.policy === 'fifo')!;
    assert.equal(Math.round(sep.served), Math.round(pool.served), 'same arrivals in both models');
    assert.ok(pool.meanWaitMin < sep.meanWaitMin, `pooled ${pool.meanWaitMin} vs separate ${sep.meanWaitMin}`);
    assert.ok(pool.withinTarget >= sep.withinTarget);
    assert.equal(rep.results.length, 4);
  });
  it('is reproducible with a seed and rejects bad scenarios', () => {
    const a = runScenario({ ...sc, replications: 1 }).results[0];
    const b = runScenario({ ...sc, replications: 1 }).results[0];
    assert.equal(a.meanWaitMin, b.meanWaitMin);
    assert.throws(() => validateScenario({ ...sc, hours: -1 }), ScenarioError);
    assert.throws(() => validateScenario({ ...sc, policies: ['nope'] }), /unknown policy/);
  });
});
