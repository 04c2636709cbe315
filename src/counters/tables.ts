/** Tables owned by the counters capability (none yet). */
// eslint-disable-next-line @typescript-eslint/no-empty-interface
export interface CountersTables {}
