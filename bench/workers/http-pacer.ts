// Open-loop HTTP GETs at a fixed rate, the same schedule discipline as the WebSocket pacer:
// request i is due at start + i/rate whatever happened to the earlier ones, so a slow server
// meets more concurrent requests instead of fewer (no coordinated omission). Keep-alive
// connections per instance; latency is send → full response, in an HDR histogram.
import { Agent, request } from "node:http";
import { nowUs, sleep } from "../lib/clock";
import { encodeHistogram, newHistogram, record } from "../lib/histogram";
import type { HttpReport, ToWorker } from "../lib/ipc";

export async function httpPace(message: Extract<ToWorker, { op: "http-pace" }>): Promise<HttpReport> {
  const agents = message.bases.map(
    () => new Agent({ keepAlive: true, maxSockets: message.connectionsPerInstance }),
  );
  const latency = newHistogram();
  const lag = newHistogram();
  const measureFrom = message.startUs + message.warmupUs;
  const endUs = measureFrom + message.durationUs;
  const intervalUs = 1_000_000 / message.rate;
  let sent = 0;
  let completed = 0;
  let non2xx = 0;
  let errors = 0;
  let inWindow = 0;
  let firstError: string | undefined;

  // Parsed once: per request only the path and the token change.
  const targets = message.bases.map((base) => new URL(base));
  const fire = (i: number, measured: boolean) => {
    const instance = i % message.bases.length;
    const target = message.requests[Math.floor(Math.random() * message.requests.length)]!;
    const url = targets[instance]!;
    const startedUs = nowUs();
    sent++;
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        path: target.path,
        agent: agents[instance],
        headers: { authorization: `Bearer ${target.token}` },
      },
      (res) => {
        res.on("data", () => undefined);
        res.on("end", () => {
          const now = nowUs();
          completed++;
          if ((res.statusCode ?? 0) < 200 || (res.statusCode ?? 0) >= 300) {
            non2xx++;
            firstError ??= `HTTP ${res.statusCode} for ${target.path}`;
          } else if (measured) record(latency, now - startedUs);
          if (now >= measureFrom && now <= endUs) inWindow++;
        });
      },
    );
    req.on("error", (error) => {
      completed++;
      errors++;
      firstError ??= error.message;
    });
    req.end();
  };

  await sleep(Math.max(0, (message.startUs - nowUs()) / 1000));
  let i = 0;
  await new Promise<void>((done) => {
    const tick = () => {
      const now = nowUs();
      for (
        let due = message.startUs + i * intervalUs;
        due <= now && due < endUs;
        due = message.startUs + ++i * intervalUs
      ) {
        record(lag, now - due);
        fire(i, due >= measureFrom);
      }
      if (now >= endUs) done();
      else setTimeout(tick, 1);
    };
    tick();
  });
  for (let waited = 0; completed < sent && waited < 15_000; waited += 20) await sleep(20);
  for (const agent of agents) agent.destroy();
  return {
    op: "http-done",
    sent,
    completed,
    non2xx,
    errors: errors + (sent - completed),
    inWindow,
    latency: encodeHistogram(latency),
    lag: encodeHistogram(lag),
    ...(firstError ? { firstError } : {}),
  };
}
