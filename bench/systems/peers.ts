// The two peers, each as two server processes on the shared Redis (own key prefix per run).
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import type { SystemName } from "../lib/clients";
import { startServer, type ServerProcess } from "../../toolbox/processes";
import type { BenchRoom, RunningSystem } from "./types";

const ROOT = join(__dirname, "..", "..");
const SERVERS: Record<Exclude<SystemName, "chatapi">, { file: string; label: string }> = {
  socketio: { file: "bench/peers/socketio-server.ts", label: "Socket.IO 4 + redis-adapter" },
  "ws-redis": { file: "bench/peers/ws-redis-server.ts", label: "raw ws + Redis pub/sub" },
};

export async function startPeer(
  name: Exclude<SystemName, "chatapi">,
  options: { redisUrl: string; logDir: string; rooms: number; members: number; nodeArgs?: string[] },
): Promise<RunningSystem> {
  const prefix = `chatapi-bench-${name}-${randomBytes(4).toString("hex")}`;
  const instances: ServerProcess[] = [];
  try {
    for (const n of [0, 1]) {
      instances.push(
        await startServer({
          command: process.execPath,
          args: [...(options.nodeArgs ?? []), "--import", "tsx", SERVERS[name].file],
          cwd: ROOT,
          env: { PATH: process.env.PATH ?? "", PORT: "0", REDIS_URL: options.redisUrl, REDIS_PREFIX: prefix },
          logFile: join(options.logDir, `${name}-${n}.log`),
          portPattern: /\{"port":(\d+)\}/,
        }),
      );
    }
  } catch (error) {
    await Promise.all(instances.map((i) => i.stop()));
    throw error;
  }
  const rooms: BenchRoom[] = Array.from({ length: options.rooms }, (_, r) => ({
    key: `room-${r}`,
    members: Array.from({ length: options.members }, (_, m) => `user-${r}-${m}`),
  }));
  return {
    name,
    protocol: name,
    label: SERVERS[name].label,
    instances,
    rooms,
    helperPids: async () => [],
    stop: async () => {
      await Promise.all(instances.map((i) => i.stop()));
    },
  };
}
