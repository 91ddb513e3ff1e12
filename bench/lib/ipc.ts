// Messages between the coordinator (run.ts) and its client worker processes.
import type { SystemName } from "./clients";

export interface ClientSpec {
  /** Instance base URL (http://127.0.0.1:port). */
  base: string;
  /** ChatAPI: an access token; peers: a user name. */
  credential: string;
  /** The room's id (ChatAPI) or name (peers). */
  room: string;
  /** The room's index in the run (what markers carry). */
  roomIndex: number;
}

export type ToWorker =
  | { op: "open"; system: SystemName; clients: ClientSpec[]; concurrency: number; join: boolean }
  | { op: "arm"; run: number; windowFromUs: number; windowToUs: number }
  | {
      op: "pace";
      run: number;
      startUs: number;
      warmupUs: number;
      durationUs: number;
      rate: number;
      bodySize: number;
    }
  | {
      op: "closed-loop";
      run: number;
      startUs: number;
      warmupUs: number;
      durationUs: number;
      window: number;
      bodySize: number;
    }
  | {
      op: "http-pace";
      /** Instance base URLs, used in turn. */
      bases: string[];
      /** Requests to draw from at random (path and bearer token). */
      requests: Array<{ path: string; token: string }>;
      startUs: number;
      warmupUs: number;
      durationUs: number;
      rate: number;
      connectionsPerInstance: number;
    }
  | { op: "progress" }
  | { op: "report" }
  | { op: "close" };

export interface OpenedReply {
  op: "opened";
  opened: number;
  failed: number;
  firstError?: string;
}

export interface ProgressReply {
  op: "progress";
  unique: number;
}

export interface ReceiverReport {
  op: "report";
  /** Per room index: clients in the room, and distinct messages they received in total. */
  clientsPerRoom: number[];
  uniquePerRoom: number[];
  duplicates: number;
  outOfOrder: number;
  stray: number;
  reconnects: number;
  /** Deliveries received inside the measurement window (for deliveries/s). */
  inWindow: number;
  latency: string;
}

export interface SenderReport {
  op: "sent";
  /** Per room index: messages sent, and how many of them the system refused with an error. */
  sentPerRoom: number[];
  errorsPerRoom: number[];
  acked: number;
  ackedInWindow: number;
  unacked: number;
  firstError?: string;
  ack: string;
  /** How late the pacer sent against its schedule (generator health, not the system's). */
  lag: string;
  closes: number;
}

export interface HttpReport {
  op: "http-done";
  sent: number;
  completed: number;
  non2xx: number;
  errors: number;
  /** Responses that arrived inside the measurement window (for requests/s). */
  inWindow: number;
  latency: string;
  lag: string;
  firstError?: string;
}

export type FromWorker =
  | OpenedReply
  | ProgressReply
  | ReceiverReport
  | SenderReport
  | HttpReport
  | { op: "armed" }
  | { op: "closed" };
