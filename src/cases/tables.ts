/** Tables owned by the cases capability (none yet). */
// eslint-disable-next-line @typescript-eslint/no-empty-interface
export interface CasesTables {}
