/**
 * A hook through which another capability supplies the fee in force per channel for the service page. The
 * catalogue imports no capability: the agreements capability registers its fee schedules here when its manifest
 * loads (src/agreements/index.ts), so the dependency stays one-way (agreements → catalogue). With no source
 * registered, the page shows the catalogue's listed costs only.
 */
import type { Database } from '../../db/database';

export interface ChannelFee {
  channel: string;
  /** What the client pays on this channel. */
  totalCents: number;
  /** The one-stop's share taken out of the government fee (included in it). */
  includedShareCents: number;
  /** Charges added on top of the government fee (service fee, card recovery, tax). */
  addedCents: number;
}
export type ServiceFeeSource = (db: Database, serviceId: string, on: string) => Promise<ChannelFee[]>;

let source: ServiceFeeSource | null = null;

export function setServiceFeeSource(fn: ServiceFeeSource | null): void {
  source = fn;
}

export async function serviceFeesByChannel(db: Database, serviceId: string, on: string): Promise<ChannelFee[]> {
  return source ? source(db, serviceId, on) : [];
}
