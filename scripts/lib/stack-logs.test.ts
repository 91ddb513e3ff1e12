// `scripts/local logs`: Docker's timestamps parsed and ordered, containers interleaved, the app's
// pino lines made readable (pino-pretty) or kept as JSON with the container added, a service
// chosen by role or name, and followed lines put back in order.
import { describe, expect, it } from "vitest";
import { ReorderBuffer, interleave, lineFormatter, parseDockerLine, selectContainers } from "./stack-logs";

const at = (container: string, time: string, text: string) => parseDockerLine(container, `${time} ${text}`)!;
const appLine = JSON.stringify({
  level: "info",
  time: "2026-12-06T10:00:01.250Z",
  service: "chatapi",
  instance: "api-1",
  env: "local",
  pid: 7,
  req: { id: "r-1", method: "GET", url: "/api/v1/rooms" },
  res: { status: 200 },
  msg: "GET /api/v1/rooms 200",
});
const plain = { json: false, colorize: false, prefix: "chatapi-obs-", labelWidth: 8 };

describe("parseDockerLine", () => {
  it("reads Docker's timestamps whatever their number of fractional digits", () => {
    const a = parseDockerLine("x", "2026-12-06T10:00:01.5Z a")!;
    const b = parseDockerLine("x", "2026-12-06T10:00:01.123456789Z b")!;
    const c = parseDockerLine("x", "2026-12-06T10:00:01Z c")!;
    expect([a.key > b.key, b.key > c.key]).toEqual([true, true]);
    expect(b.key - c.key).toBe(123_456_789n);
    expect(a).toMatchObject({ time: "2026-12-06T10:00:01.500Z", text: "a" });
    expect(parseDockerLine("x", "no timestamp here")).toBeUndefined();
  });
});

describe("interleave", () => {
  it("orders the containers' lines by time; equal times keep their order", () => {
    const api = [at("api-1", "2026-12-06T10:00:01.1Z", "a1"), at("api-1", "2026-12-06T10:00:03Z", "a2")];
    const db = [at("postgres", "2026-12-06T10:00:02Z", "p1"), at("postgres", "2026-12-06T10:00:03Z", "p2")];
    const worker = [at("worker-1", "2026-12-06T10:00:00.9Z", "w1")];
    expect(interleave([api, db, worker]).map((l) => l.text)).toEqual(["w1", "a1", "p1", "a2", "p2"]);
  });
});

describe("lineFormatter", () => {
  it("pretty: the app's JSON line through pino-pretty, labelled with the container, without the noise fields", () => {
    const text = lineFormatter(plain)(at("chatapi-obs-api-1", "2026-12-06T10:00:01.251Z", appLine));
    expect(text).toMatch(/^api-1 {4}\| \[2026-12-06 10:00:01\.250\] INFO: GET \/api\/v1\/rooms 200 /);
    expect(text).toContain('"url":"/api/v1/rooms"');
    expect(text).not.toContain("chatapi-obs-");
    expect(text).not.toMatch(/service|hostname|"pid"/);
    expect(text.split("\n")).toHaveLength(1);
  });

  it("pretty: a plain line (PostgreSQL, nginx) gets Docker's time", () => {
    const text = lineFormatter(plain)(
      at("chatapi-obs-postgres", "2026-12-06T10:00:02.5Z", "LOG:  checkpoint starting"),
    );
    expect(text).toBe("postgres | [2026-12-06 10:00:02.500] LOG:  checkpoint starting");
  });

  it("--json: the app's object with the container added; a plain line wrapped as one", () => {
    const format = lineFormatter({ ...plain, json: true });
    const app = JSON.parse(format(at("chatapi-obs-api-1", "2026-12-06T10:00:01.251Z", appLine))) as Record<
      string,
      unknown
    >;
    expect(app).toMatchObject({
      container: "api-1",
      level: "info",
      msg: "GET /api/v1/rooms 200",
      res: { status: 200 },
    });
    expect(
      JSON.parse(format(at("chatapi-obs-redis", "2026-12-06T10:00:02Z", "1:M Ready to accept"))),
    ).toEqual({
      time: "2026-12-06T10:00:02.000Z",
      container: "redis",
      msg: "1:M Ready to accept",
    });
  });

  it("colours levels only when asked (a terminal)", () => {
    const line = at("chatapi-obs-api-1", "2026-12-06T10:00:01Z", appLine);
    expect(lineFormatter({ ...plain, colorize: true })(line)).toContain("\u001b[");
    expect(lineFormatter(plain)(line)).not.toContain("\u001b[");
  });
});

describe("selectContainers", () => {
  const all = [
    { name: "chatapi-obs-api-1", role: "api" },
    { name: "chatapi-obs-api-2", role: "api" },
    { name: "chatapi-obs-worker-1", role: "worker" },
    { name: "chatapi-obs-postgres", role: "postgres" },
  ];
  it("takes a role, a short name or a full name; none means every container", () => {
    expect(selectContainers(all, "obs", "api").map((c) => c.name)).toEqual([
      "chatapi-obs-api-1",
      "chatapi-obs-api-2",
    ]);
    expect(selectContainers(all, "obs", "api-2").map((c) => c.name)).toEqual(["chatapi-obs-api-2"]);
    expect(selectContainers(all, "obs", "chatapi-obs-postgres")).toHaveLength(1);
    expect(selectContainers(all, "obs")).toHaveLength(4);
  });
  it("names the services and containers there are when the one asked for is not", () => {
    expect(() => selectContainers(all, "obs", "redis")).toThrow(
      'stack obs has no service "redis"; services: api, worker, postgres; containers: api-1, api-2, worker-1, postgres',
    );
  });
});

describe("ReorderBuffer", () => {
  it("holds followed lines for the window, releases them by time, and drops lines already shown", () => {
    let now = 0;
    const buffer = new ReorderBuffer(250, () => now);
    buffer.seen(at("api-1", "2026-12-06T10:00:01Z", "shown before"));
    buffer.push(at("api-1", "2026-12-06T10:00:01Z", "shown before")); // re-read by the follow
    buffer.push(at("api-1", "2026-12-06T10:00:03Z", "late"));
    now = 100;
    buffer.push(at("postgres", "2026-12-06T10:00:02Z", "early"));
    expect(buffer.release()).toEqual([]);
    now = 260; // the first two are due; "early" arrived later and is not
    expect(buffer.release().map((l) => l.text)).toEqual(["late"]);
    expect(buffer.release(true).map((l) => l.text)).toEqual(["early"]);
  });

  it("releases lines that arrived within one window in timestamp order", () => {
    let now = 0;
    const buffer = new ReorderBuffer(250, () => now);
    buffer.push(at("api-1", "2026-12-06T10:00:03Z", "third"));
    buffer.push(at("worker-1", "2026-12-06T10:00:01Z", "first"));
    buffer.push(at("postgres", "2026-12-06T10:00:02Z", "second"));
    now = 300;
    expect(buffer.release().map((l) => l.text)).toEqual(["first", "second", "third"]);
  });
});
