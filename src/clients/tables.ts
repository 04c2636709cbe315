/** Tables owned by the clients capability (none yet). */
// eslint-disable-next-line @typescript-eslint/no-empty-interface
export interface ClientsTables {}
