/** Tables owned by the agreements capability (none yet). */
// eslint-disable-next-line @typescript-eslint/no-empty-interface
export interface AgreementsTables {}
