/**
 * Erlang C (M/M/c queue): probability of waiting, mean wait, service level, and the counters needed per hour to meet a
 * target such as "80% served within 15 minutes".
 */

/** Probability that an arrival waits, for c servers and offered load a = λ/μ (Erlangs). 1 when a >= c. */
export function erlangC(c: number, a: number): number {
  if (!(c >= 1) || !Number.isInteger(c)) throw new RangeError('c must be a positive integer');
  if (a <= 0) return 0;
  if (a >= c) return 1;
  let b = 1; // Erlang B, by recursion (numerically stable)
  for (let k = 1; k <= c; k++) b = (a * b) / (k + a * b);
  return (c * b) / (c - a * (1 - b));
}

export interface QueueParams {
  /** arrivals per hour */
  arrivalsPerHour: number;
  /** mean service time in minutes */
  meanServiceMin: number;
  counters: number;
}

/** Mean wait in queue (minutes); Infinity when unstable. */
export function meanWaitMin(p: QueueParams): number {
  const lambda = p.arrivalsPerHour / 60; // per minute
  const mu = 1 / p.meanServiceMin;
  const a = lambda / mu;
  if (a >= p.counters) return Infinity;
  if (lambda === 0) return 0;
  return erlangC(p.counters, a) / (p.counters * mu - lambda);
}

/** Share of clients who wait at most t minutes. */
export function serviceLevel(p: QueueParams, withinMin: number): number {
  const lambda = p.arrivalsPerHour / 60;
  const mu = 1 / p.meanServiceMin;
  const a = lambda / mu;
  if (lambda === 0) return 1;
  if (a >= p.counters) return 0;
  return 1 - erlangC(p.counters, a) * Math.exp(-(p.counters * mu - lambda) * withinMin);
}

export interface StaffingTarget {
  share: number; // 0.8
  withinMin: number; // 15
}

/** Fewest counters meeting the target (at most maxCounters; null if none does). */
export function countersNeeded(arrivalsPerHour: number, meanServiceMin: number, target: StaffingTarget, maxCounters = 500): number | null {
  if (arrivalsPerHour <= 0) return 0;
  const a = (arrivalsPerHour / 60) * meanServiceMin;
  for (let c = Math.max(1, Math.floor(a) + 1); c <= maxCounters; c++) {
    if (serviceLevel({ arrivalsPerHour, meanServiceMin, counters: c }, target.withinMin) >= target.share) return c;
  }
  return null;
}

export interface StaffingRow {
  hour: string;
  arrivalsPerHour: number;
  load: number;
  counters: number | null;
  serviceLevel: number | null;
  meanWaitMin: number | null;
  occupancy: number | null;
}

/** A staffing plan: for each hour, counters needed, and the resulting service level, mean wait and occupancy. */
export function staffingPlan(hours: Array<{ hour: string; arrivalsPerHour: number }>, meanServiceMin: number, target: StaffingTarget): StaffingRow[] {
  return hours.map(({ hour, arrivalsPerHour }) => {
    const c = countersNeeded(arrivalsPerHour, meanServiceMin, target);
    const load = (arrivalsPerHour / 60) * meanServiceMin;
    if (c === null || c === 0) return { hour, arrivalsPerHour, load, counters: c, serviceLevel: c === 0 ? 1 : null, meanWaitMin: c === 0 ? 0 : null, occupancy: c === 0 ? 0 : null };
    const p = { arrivalsPerHour, meanServiceMin, counters: c };
    return { hour, arrivalsPerHour, load, counters: c, serviceLevel: serviceLevel(p, target.withinMin), meanWaitMin: meanWaitMin(p), occupancy: load / c };
  });
}
