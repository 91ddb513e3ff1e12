// --private-services: the benchmark's own PostgreSQL and Redis (same binaries and default
// durability as the shared ones: fsync on, synchronous_commit on), so other work on the shared
// services (other tests' databases committing to the same WAL, their Redis traffic) does not
// land in the figures, and --nice can raise them together with the systems under test.
import { PrivatePostgres, PrivateRedis } from "../../toolbox/private-services";
import type { Services } from "./services";

export interface PrivateServices extends Services {
  pids(): number[];
  stop(): Promise<void>;
}

export async function startPrivateServices(rabbitmqUrl: string): Promise<PrivateServices> {
  const postgres = await PrivatePostgres.start({
    durable: true,
    settings: { max_connections: "200", shared_buffers: "256MB" },
  });
  const redis = await PrivateRedis.start().catch(async (error: unknown) => {
    await postgres.dispose();
    throw error;
  });
  return {
    databaseUrl: postgres.adminUrl,
    redisUrl: redis.url,
    rabbitmqUrl,
    pids: () => [postgres.pid, redis.pid],
    stop: async () => {
      await Promise.all([postgres.dispose(), redis.stop().then(() => redis.dispose())]);
    },
  };
}
