/** Tables owned by the performance capability (none yet). */
// eslint-disable-next-line @typescript-eslint/no-empty-interface
export interface PerformanceTables {}
