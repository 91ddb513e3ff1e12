// The peers, each as two server processes on the shared Redis (own key prefix per run); the
// durable ones (the Socket.IO peer with PostgreSQL, the raw ws floor) also on a throwaway
// database of the benchmark's PostgreSQL.
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import type { SystemName } from "../lib/clients";
import { startServer, type ServerProcess } from "../../toolbox/processes";
import { type BenchDatabase, createBenchDatabase } from "./bench-database";
import type { BenchRoom, RunningSystem } from "./types";

const ROOT = join(__dirname, "..", "..");
type PeerName = Exclude<SystemName, "chatapi">;
const PEERS: Record<PeerName, { file: string; label: string; protocol: SystemName; durable?: true }> = {
  socketio: {
    file: "bench/peers/socketio-server.ts",
    label: "Socket.IO 4 + redis-adapter",
    protocol: "socketio",
  },
  "socketio-pg": {
    file: "bench/peers/socketio-server.ts",
    label: "Socket.IO 4 + redis-adapter + PostgreSQL (INSERT before emit and ack)",
    protocol: "socketio",
    durable: true,
  },
  "ws-redis": {
    file: "bench/peers/ws-redis-server.ts",
    label: "raw ws + Redis pub/sub",
    protocol: "ws-redis",
  },
  "ws-redis-pg": {
    file: "bench/peers/ws-redis-server.ts",
    label: "durable floor: raw ws + Redis + PostgreSQL (group commit before publish and ack)",
    protocol: "ws-redis",
    durable: true,
  },
};

/** The durable peers' history: what a team adds to Socket.IO to keep its messages. */
export const MESSAGES_TABLE = `CREATE TABLE messages (
  id bigserial PRIMARY KEY,
  room text NOT NULL,
  sender text NOT NULL,
  body text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX messages_room_id ON messages (room, id)`;

export async function startPeer(
  name: PeerName,
  options: {
    redisUrl: string;
    /** The benchmark's PostgreSQL (the durable peer's database is made on it). */
    adminDatabaseUrl: string;
    logDir: string;
    rooms: number;
    members: number;
    nodeArgs?: string[];
  },
): Promise<RunningSystem> {
  const peer = PEERS[name];
  const prefix = `chatapi-bench-${name}-${randomBytes(4).toString("hex")}`;
  const instances: ServerProcess[] = [];
  let database: BenchDatabase | undefined;
  try {
    if (peer.durable) {
      database = await createBenchDatabase(options.adminDatabaseUrl, name.replace(/-/g, "_"));
      await database.query(MESSAGES_TABLE);
    }
    for (const n of [0, 1]) {
      instances.push(
        await startServer({
          command: process.execPath,
          args: [...(options.nodeArgs ?? []), "--import", "tsx", peer.file],
          cwd: ROOT,
          env: {
            PATH: process.env.PATH ?? "",
            PORT: "0",
            REDIS_URL: options.redisUrl,
            REDIS_PREFIX: prefix,
            ...(database ? { DATABASE_URL: database.url } : {}),
          },
          logFile: join(options.logDir, `${name}-${n}.log`),
          portPattern: /\{"port":(\d+)\}/,
        }),
      );
    }
  } catch (error) {
    await Promise.all(instances.map((i) => i.stop()));
    await database?.drop();
    throw error;
  }
  const rooms: BenchRoom[] = Array.from({ length: options.rooms }, (_, r) => ({
    key: `room-${r}`,
    members: Array.from({ length: options.members }, (_, m) => `user-${r}-${m}`),
  }));
  return {
    name,
    protocol: peer.protocol,
    label: peer.label,
    instances,
    rooms,
    helperPids: database ? database.helperPids : async () => [],
    ...(database ? { countStored: database.countStored } : {}),
    stop: async () => {
      await Promise.all(instances.map((i) => i.stop()));
      await database?.drop();
    },
  };
}
