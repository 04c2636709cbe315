/**
 * The routing policy: which waiting ticket a counter calls next. ONE pure module (no I/O), used by the HTTP
 * "call next" (src/counters/queue.ts) and by the simulator (src/counters/simulation.ts).
 *
 * 1. Eligibility (hard constraints)
 *    - pooling 'separate' (independent, side by side, one office two counters): a counter serves only tickets of the
 *      organisations it serves (the counter's owner, or the agent's organisation, or the organisation the agent is lent
 *      to); a shared counter (no owner) serves every organisation. Pooling 'pooled' (one office, one counter): any
 *      counter serves any organisation.
 *    - skills: the agent must be trained for the ticket's service (empty skill list = every service);
 *    - language: when the policy requires it, the agent must speak the ticket's language;
 *    - a ticket transferred to one counter is called only by that counter.
 * 2. Order (soft): effective wait = minutes waited since the place in line (kept across transfers) + bonuses:
 *    accessibility needs, appointments due (and the lateness of a due appointment). Bonuses are bounded, the wait grows
 *    without bound, so every ticket is eventually first: no starvation (aging). Any ticket waiting longer than
 *    `maxWaitMinutes` goes first regardless of bonuses (hard fairness cap).
 */

export type Pooling = 'separate' | 'pooled';
export type Priority = 'none' | 'accessibility' | 'appointment';

export interface WaitingTicket {
  id: string;
  serviceId: string;
  orgId: string;
  language: string;
  priority: Priority;
  /** ms since epoch */
  queuedAt: number;
  appointmentAt?: number | null;
  targetCounterId?: string | null;
}

export interface CallingCounter {
  counterId: string;
  /** The counter's owner; null = shared counter. */
  counterOrgId: string | null;
  /** Organisations this agent serves (own organisation, or the one they are lent to). */
  agentOrgIds: string[];
  /** Trained services; empty = all. */
  skills: string[];
  languages: string[];
}

export interface RoutingPolicy {
  name: string;
  /** Minutes added to an accessibility ticket's wait. */
  accessibilityBonusMin: number;
  /** Minutes added to an appointment ticket once it is due (from dueWindowMin before the appointment). */
  appointmentBonusMin: number;
  dueWindowMin: number;
  /** Language is a hard constraint (true) or only preferred (false: a matching language adds languageBonusMin). */
  languageRequired: boolean;
  languageBonusMin: number;
  /** Past this wait, a ticket goes first (no starvation). Infinity = off. */
  maxWaitMinutes: number;
}

export const POLICIES: Record<string, RoutingPolicy> = {
  /** Longest wait first, language required; no priorities. */
  fifo: { name: 'fifo', accessibilityBonusMin: 0, appointmentBonusMin: 0, dueWindowMin: 0, languageRequired: true, languageBonusMin: 0, maxWaitMinutes: Infinity },
  /** The default: priorities with aging and a fairness cap. */
  priority: { name: 'priority', accessibilityBonusMin: 15, appointmentBonusMin: 30, dueWindowMin: 5, languageRequired: true, languageBonusMin: 0, maxWaitMinutes: 45 },
  /** Strict priority without aging cap (for comparison: can starve regular tickets under load). */
  strict: { name: 'strict', accessibilityBonusMin: 10_000, appointmentBonusMin: 10_000, dueWindowMin: 5, languageRequired: true, languageBonusMin: 0, maxWaitMinutes: Infinity },
};

export const DEFAULT_POLICY = POLICIES.priority;

export function poolingFor(collaborationModel: string): Pooling {
  return collaborationModel === 'one_office_one_counter' ? 'pooled' : 'separate';
}

export function isEligible(t: WaitingTicket, c: CallingCounter, pooling: Pooling, policy: RoutingPolicy = DEFAULT_POLICY): boolean {
  if (t.targetCounterId && t.targetCounterId !== c.counterId) return false;
  if (!t.targetCounterId && pooling === 'separate' && c.counterOrgId !== null) {
    if (t.orgId !== c.counterOrgId && !c.agentOrgIds.includes(t.orgId)) return false;
  }
  if (c.skills.length > 0 && !c.skills.includes(t.serviceId)) return false;
  if (policy.languageRequired && c.languages.length > 0 && !c.languages.includes(t.language)) return false;
  return true;
}

/** Effective wait in minutes (higher = called sooner). */
export function score(t: WaitingTicket, c: CallingCounter | null, now: number, policy: RoutingPolicy = DEFAULT_POLICY): number {
  const waited = (now - t.queuedAt) / 60000;
  if (waited >= policy.maxWaitMinutes) return 1e9 + waited; // fairness cap: oldest of the over-cap tickets first
  let s = waited;
  if (t.priority === 'accessibility') s += policy.accessibilityBonusMin;
  if (t.priority === 'appointment' && t.appointmentAt != null) {
    const untilDue = (t.appointmentAt - now) / 60000;
    if (untilDue <= policy.dueWindowMin) s += policy.appointmentBonusMin + Math.max(0, -untilDue);
  }
  if (!policy.languageRequired && c && c.languages.includes(t.language)) s += policy.languageBonusMin;
  if (t.targetCounterId && c && t.targetCounterId === c.counterId) s += 1; // a ticket sent to this counter is expected
  return s;
}

/** Eligible tickets, best first (ties: earliest place in line, then id). */
export function rankTickets(
  tickets: readonly WaitingTicket[],
  counter: CallingCounter,
  ctx: { now: number; pooling: Pooling; policy?: RoutingPolicy },
): WaitingTicket[] {
  const policy = ctx.policy ?? DEFAULT_POLICY;
  const scored: Array<[number, WaitingTicket]> = [];
  for (const t of tickets) if (isEligible(t, counter, ctx.pooling, policy)) scored.push([score(t, counter, ctx.now, policy), t]);
  scored.sort((a, b) => b[0] - a[0] || a[1].queuedAt - b[1].queuedAt || (a[1].id < b[1].id ? -1 : 1));
  return scored.map((x) => x[1]);
}

/** The next ticket for this counter, or null. O(n) in the number of waiting tickets. */
export function selectNext(
  tickets: readonly WaitingTicket[],
  counter: CallingCounter,
  ctx: { now: number; pooling: Pooling; policy?: RoutingPolicy },
): WaitingTicket | null {
  const policy = ctx.policy ?? DEFAULT_POLICY;
  let best: WaitingTicket | null = null;
  let bestScore = -Infinity;
  for (const t of tickets) {
    if (!isEligible(t, counter, ctx.pooling, policy)) continue;
    const s = score(t, counter, ctx.now, policy);
    if (s > bestScore || (s === bestScore && best && (t.queuedAt < best.queuedAt || (t.queuedAt === best.queuedAt && t.id < best.id)))) {
      best = t;
      bestScore = s;
    }
  }
  return best;
}

/**
 * Estimated wait (minutes) for a new ticket: tickets ahead that compete for the same counters, times the mean service
 * time, divided by the number of open counters able to serve it.
 */
export function estimateWaitMinutes(ahead: number, eligibleOpenCounters: number, meanServiceMin: number): number {
  if (eligibleOpenCounters <= 0) return Math.round((ahead + 1) * meanServiceMin);
  return Math.round((ahead / eligibleOpenCounters) * meanServiceMin);
}
