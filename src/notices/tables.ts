/** Tables owned by the notices capability (none yet). */
// eslint-disable-next-line @typescript-eslint/no-empty-interface
export interface NoticesTables {}
