// 8. A long, wide run to see what leaks: two API instances, many rooms, the usual load, and
// clients that come and go all the time (each subscribes to a random handful of rooms, some
// twice on one socket, unsubscribes from some, and leaves). Afterwards every room must be let go
// (the hub releases a room 30 s after its last local subscriber): no stream, no Redis channel;
// and the instances' memory must not have grown with the churn.
import { readFileSync } from "node:fs";
import { Redis } from "ioredis";
import WebSocket from "ws";
import type { Load } from "../lib/load";
import { type Instance, sleep } from "../../toolbox/processes";
import type { Scale, ScenarioResult } from "../lib/results";
import { check, crashed, describeLoad, result } from "../lib/scenario";
import { Stack } from "../lib/stack";
import { twoInstancesUnderLoad } from "../lib/two-instances";

const meta = { id: "churn-soak", title: "Clients coming and going over many rooms, then nobody" };

const rss = (i: Instance) =>
  Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${i.pid}/status`, "utf8"))?.[1] ?? 0) * 1024;

/** The rooms an instance follows, from its own /metrics. */
async function fanoutRooms(i: Instance): Promise<number> {
  const text = await (await fetch(`${i.url}/metrics`)).text();
  return Number(/^chatapi_fanout_rooms (\d+)/m.exec(text)?.[1] ?? NaN);
}

/** One visiting client: a socket, random rooms (some twice), a few unsubscribes, then gone. */
async function visit(base: string, token: string, rooms: string[], stayMs: number): Promise<number> {
  const ws = new WebSocket(`${base.replace("http", "ws")}/ws?token=${encodeURIComponent(token)}`);
  ws.on("error", () => undefined);
  const opened = await new Promise<boolean>((resolve) => {
    ws.once("open", () => resolve(true));
    ws.once("close", () => resolve(false));
  });
  if (!opened) return 0;
  const picked = Array.from(
    { length: 1 + Math.floor(Math.random() * 8) },
    () => rooms[Math.floor(Math.random() * rooms.length)]!,
  );
  let frames = 0;
  for (const room of picked) {
    ws.send(JSON.stringify({ type: "subscribe", room_id: room }));
    if (Math.random() < 0.5) ws.send(JSON.stringify({ type: "subscribe", room_id: room, after_seq: 0 }));
    frames += 2;
  }
  await sleep(stayMs / 2);
  for (const room of picked.filter(() => Math.random() < 0.3)) {
    ws.send(JSON.stringify({ type: "unsubscribe", room_id: room }));
    frames++;
  }
  await sleep(stayMs / 2);
  ws.terminate();
  return frames;
}

export async function run(scale: Scale): Promise<ScenarioResult> {
  let stack: Stack | undefined;
  let load: Load | undefined;
  const short = scale === "short";
  const rooms = short ? 20 : 200; // beyond the load's: only the visitors follow them
  const churners = short ? 8 : 40;
  const churnMs = short ? 10_000 : 120_000;
  try {
    stack = await Stack.create();
    const setup = await twoInstancesUnderLoad(stack, scale, { extraRooms: rooms, extraUsers: churners });
    const { a, b, shape, tenant } = setup;
    load = setup.load;
    await load.start();
    const rssBefore = [rss(a), rss(b)];
    const t0 = Date.now();
    let visits = 0;
    let frames = 0;
    const visitors = tenant.users.slice(-churners);
    await Promise.all(
      visitors.map(async (user, n) => {
        while (Date.now() - t0 < churnMs) {
          frames += await visit(
            [a, b][(n + visits) % 2]!.url,
            user.token,
            tenant.rooms.slice(-rooms),
            200 + Math.random() * 800,
          );
          visits++;
        }
      }),
    );
    const report = await load.finish();
    const during = [await fanoutRooms(a), await fanoutRooms(b)];
    // Everyone has left: after the 30 s release grace, nothing may be followed any more.
    const redis = new Redis(stack.env.REDIS_URL!, { lazyConnect: true, maxRetriesPerRequest: 1 });
    await redis.connect();
    const channels = async () =>
      (await redis.pubsub("CHANNELS", `${stack!.env.REDIS_KEY_PREFIX}room:*`)).length;
    const deadline = Date.now() + 45_000;
    while ((await channels()) > 0 && Date.now() < deadline) await sleep(500);
    const left = await channels();
    redis.disconnect();
    const after = [await fanoutRooms(a), await fanoutRooms(b)];
    const growth = [rss(a) - rssBefore[0]!, rss(b) - rssBefore[1]!].map((bytes) =>
      Math.round(bytes / 2 ** 20),
    );
    return result(
      {
        ...meta,
        load: `${describeLoad(shape, 2)}; ${churners} clients coming and going over ${rooms} more rooms for ${churnMs / 1000} s`,
        fault: `${visits} visits (${frames} subscribe/unsubscribe frames), then every client gone`,
      },
      report,
      null,
      {
        visits,
        "rooms followed (api-1/api-2) at the end of the load": during.join("/"),
        "rooms followed 30 s after everyone left": after.join("/"),
        "Redis room channels left": left,
        "RSS growth MiB (api-1/api-2)": growth.join("/"),
      },
      [
        check("the churn happened", visits >= churners * 2, `${visits} visits`),
        check(
          "every room let go after everyone left (no stream, no Redis channel)",
          left === 0 && after.every((n) => n === 0),
          `${left} channels, rooms followed ${after.join("/")}`,
        ),
        check(
          "memory did not grow with the churn (< 150 MiB per instance)",
          growth.every((m) => m < 150),
          `${growth.join("/")} MiB`,
        ),
      ],
    );
  } catch (error) {
    load?.abort();
    return crashed(meta, error);
  } finally {
    await stack?.dispose();
  }
}
