import type { SystemName } from "../lib/clients";
import type { ServerProcess } from "../../toolbox/processes";

export interface BenchRoom {
  /** Room id (ChatAPI) or name (peers). */
  key: string;
  /** One credential per member (ChatAPI access tokens, peers user names). */
  members: string[];
}

/** A system under test: its instances (two in npm run bench), and the rooms the scenarios use. */
export interface RunningSystem {
  /** Key in the results: the protocol's name, or e.g. "chatapi-baseline" for a second build. */
  name: string;
  /** How clients talk to it. */
  protocol: SystemName;
  label: string;
  instances: ServerProcess[];
  rooms: BenchRoom[];
  /** Other processes that work for this system only (its PostgreSQL backends). */
  helperPids(): Promise<number[]>;
  /** Systems that persist: the stored messages whose body starts with a prefix. */
  countStored?(bodyPrefix: string): Promise<number>;
  stop(): Promise<void>;
}
