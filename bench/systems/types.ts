import type { SystemName } from "../lib/clients";
import type { ServerProcess } from "../lib/processes";

export interface BenchRoom {
  /** Room id (ChatAPI) or name (peers). */
  key: string;
  /** One credential per member (ChatAPI access tokens, peers user names). */
  members: string[];
}

/** A system under test: two instances, and the rooms the scenarios use. */
export interface RunningSystem {
  name: SystemName;
  label: string;
  instances: ServerProcess[];
  rooms: BenchRoom[];
  stop(): Promise<void>;
}
