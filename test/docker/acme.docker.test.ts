// ACME on a Docker host for real (issue 26, point 2): a stack with tls.mode acme against Pebble,
// Let's Encrypt's test ACME server, with certbot (Debian's) in the stack answering HTTP-01 through
// nginx's port 80:
//   - the first certificate is obtained at deploy (scripts/local up waits for it) and served;
//   - port 80 serves the challenge folder and still redirects everything else to HTTPS;
//   - certbot renews on its schedule, and nginx serves the new certificate from the next handshake
//     with no reload: a WebSocket and a keep-alive HTTPS connection opened before stay up;
//   - a failed challenge (the domain pointed elsewhere) leaves the old certificate serving, makes
//     the certbot container unhealthy (scripts/local status says why), and the next run recovers.
// Prints the figures: issue, renewal and pick-up times.
import { connect } from "node:tls";
import { request as httpRequest } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { run } from "../../toolbox/exec";
import { stackContainers } from "../../scripts/lib/stack-health";
import { PrivatePebble } from "../support/acme-server";
import { ResilientSubscriber } from "../../toolbox/resilient-clients";
import { StackClient } from "../../toolbox/stack-client";
import {
  type Conversation,
  expectStillDelivering,
  tokenFor,
  writeConversation,
} from "../support/conversation";
import { waitFor } from "../../toolbox/processes";
import { TestStack } from "../support/test-stack";
import { dockerBridgeAddress } from "../../toolbox/docker-bridge";

const DOMAIN = "chat.acme.test";
/** How often certbot checks; Pebble's certificates live an hour, so every check renews. */
const CHECK_SECONDS = 20;
const figures: Record<string, string> = {};
let pebble: PrivatePebble;
let stack: TestStack;
let root = "";
let chat: StackClient;
let conversation: Conversation;

/** The certificate nginx shows a new TLS connection: serial, and whether it chains to Pebble's root. */
function served(): Promise<{ serial: string; trusted: boolean; names: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect({
      host: "127.0.0.1",
      port: stack.ports.https,
      servername: DOMAIN,
      ca: root,
      rejectUnauthorized: false,
    });
    socket.once("secureConnect", () => {
      const cert = socket.getPeerCertificate();
      resolve({ serial: cert.serialNumber, trusted: socket.authorized, names: String(cert.subjectaltname) });
      socket.destroy();
    });
    socket.once("error", reject);
  });
}

function plainHttp(path: string): Promise<{ status: number; location?: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: "127.0.0.1", port: stack.ports.http, path, headers: { host: DOMAIN } },
      (res) => {
        res.resume();
        resolve({
          status: res.statusCode ?? 0,
          ...(res.headers.location ? { location: res.headers.location } : {}),
        });
      },
    );
    req.on("error", reject);
    req.end();
  });
}

async function certbot() {
  return (await stackContainers(stack.name)).find((c) => c.role === "certbot")!;
}

async function certbotLogs(): Promise<string> {
  return (await run("docker", ["logs", `${stack.prefix}-certbot`], { reject: false })).all;
}

/** Times (ms since epoch) of the lines of certbot's log that hold `text` (docker log timestamps). */
async function logTimes(text: string): Promise<number[]> {
  const out = (await run("docker", ["logs", "--timestamps", `${stack.prefix}-certbot`], { reject: false }))
    .all;
  return out
    .split("\n")
    .filter((l) => l.includes(text))
    .map((l) => Date.parse(l.split(" ")[0]!));
}

const publishTimes = () => logTimes("acme: published a new certificate");

/** Seconds from the start of the certbot run that ended at `end` (its first line) to `end`. */
async function certbotRunSeconds(end: number): Promise<string> {
  const start = (await logTimes("Saving debug log to")).filter((t) => t <= end).at(-1)!;
  return `${((end - start) / 1000).toFixed(1)} s`;
}

beforeAll(async () => {
  stack = await TestStack.create("acme");
  pebble = await PrivatePebble.start({
    host: await dockerBridgeAddress(),
    httpPort: stack.ports.http,
    validitySeconds: 3600,
  });
  const started = performance.now();
  const up = await stack.up(
    [
      `domain=${DOMAIN}`,
      "tls.mode=acme",
      "tls.acmeEmail=ops@example.com",
      `tls.acmeServer=${pebble.directoryUrl}`,
      `tls.acmeServerCa=${pebble.serverCa}`,
      `tls.acmeRenewCheckSeconds=${CHECK_SECONDS}`,
    ],
    // The smoke check resolves the domain with this machine's DNS; the test checks through 127.0.0.1.
    ["--no-smoke"],
  );
  if (up.exitCode !== 0)
    throw new Error(
      `scripts/local up failed:\n${up.all.slice(-6000)}\npebble:\n${pebble.output.join("").slice(-3000)}`,
    );
  figures["scripts/local up (certificate obtained at deploy)"] =
    `${((performance.now() - started) / 1000).toFixed(0)} s`;
  root = await pebble.root();
  chat = new StackClient({ url: `https://127.0.0.1:${stack.ports.https}`, domain: DOMAIN, ca: root });
}, 1_200_000);

afterAll(async () => {
  chat?.close();
  if (stack) await stack.remove();
  await pebble?.stop();
  console.log(
    `ACME figures:\n${Object.entries(figures)
      .map(([k, v]) => `  ${k.padEnd(56)} ${v}`)
      .join("\n")}`,
  );
}, 300_000);

describe("ACME on a Docker host: certbot in the stack against Pebble, HTTP-01 through nginx", () => {
  it("obtains the first certificate at deploy: certbot healthy, nginx serves a certificate from Pebble for the domain", async () => {
    expect(await certbot()).toMatchObject({ status: "running", health: "healthy" });
    const first = await served();
    expect(first.trusted).toBe(true);
    expect(first.names).toBe(`DNS:${DOMAIN}`);
    const logs = await certbotLogs();
    expect(logs).toContain(`acme: published a new certificate for ${DOMAIN}`);
    // From the certbot container's start to the certificate published.
    const [published] = await publishTimes();
    const startedAt = Date.parse(
      (
        await run("docker", ["inspect", "-f", "{{.State.StartedAt}}", `${stack.prefix}-certbot`])
      ).stdout.trim(),
    );
    figures["certificate issued (certbot start → published)"] =
      `${((published! - startedAt) / 1000).toFixed(1)} s`;
    // The chat service through it, TLS verified against Pebble's root.
    const health = await chat.raw("GET", "/health");
    expect(health.status).toBe(200);
    conversation = await writeConversation(chat, stack.adminKey(), 3);
  });

  it("serves ACME challenges on port 80 and still redirects everything else to HTTPS", async () => {
    expect(await plainHttp("/.well-known/acme-challenge/no-such-token")).toEqual({ status: 404 });
    expect(await plainHttp("/api/v1/health?x=1")).toEqual({
      status: 301,
      location: `https://${DOMAIN}:${stack.ports.https}/api/v1/health?x=1`,
    });
    expect((await plainHttp("/")).status).toBe(301);
  });

  it("renews on its schedule; nginx serves the new certificate at once, no reload, no connection dropped", async () => {
    const before = await served();
    const nginxPid = (
      await run("docker", ["inspect", "-f", "{{.State.Pid}}", `${stack.prefix}-nginx`])
    ).stdout.trim();
    const workersBefore = (await run("pgrep", ["-P", nginxPid])).stdout.trim();
    const alice = await tokenFor(chat, conversation.clientKey, conversation.aliceId);
    const subscriber = new ResilientSubscriber(chat, () => alice, conversation.roomId, "198.51.100.9");
    await subscriber.start();
    // Keep-alive HTTPS requests on one pooled connection while the renewal happens.
    let requests = 0;
    const failures: string[] = [];
    let stop = false;
    const traffic = (async () => {
      while (!stop) {
        const res = await chat.raw("GET", "/health").catch((e: Error) => ({ status: 0, text: e.message }));
        requests++;
        if (res.status !== 200) failures.push(`${res.status} ${"text" in res ? res.text : ""}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    })();
    const published = (await publishTimes()).length;
    let renewed = before;
    await waitFor(
      "a scheduled renewal served by nginx",
      async () => (renewed = await served()).serial !== before.serial,
      (CHECK_SECONDS + 120) * 1000,
    );
    const seenAt = Date.now();
    stop = true;
    await traffic;
    expect(renewed.trusted).toBe(true);
    const times = await publishTimes();
    expect(times.length).toBeGreaterThan(published);
    figures["renewal run (certbot renew start → published)"] = await certbotRunSeconds(times.at(-1)!);
    figures["renewal published → served by nginx (poll every ~0.2 s)"] =
      `≤ ${((seenAt - times.at(-1)!) / 1000).toFixed(1)} s`;
    const renewLine = /acme: published a new certificate/;
    expect(await certbotLogs()).toMatch(renewLine);
    // Nothing dropped: the WebSocket is the one opened before, and still delivers.
    await expectStillDelivering(chat, conversation, subscriber, "after renewal");
    await subscriber.stop();
    expect(failures).toEqual([]);
    figures["HTTPS requests during the renewal (keep-alive), failed"] = `${requests}, ${failures.length}`;
    // No reload: the same nginx workers.
    expect((await run("pgrep", ["-P", nginxPid])).stdout.trim()).toBe(workersBefore);
  });

  it("a failed challenge leaves the old certificate serving, shows in status, and the next run recovers", async () => {
    // The domain now points where nothing answers: Pebble's HTTP-01 check fails.
    await pebble.setAddress(DOMAIN, ["127.0.0.2"]);
    const before = await served();
    const failedAt = Date.now();
    await waitFor(
      "certbot to report the failed renewal",
      async () => (await certbot()).health === "unhealthy",
      (CHECK_SECONDS * 2 + 120) * 1000,
    );
    figures["failed challenge → unhealthy (incl. wait for next check)"] =
      `${((Date.now() - failedAt) / 1000).toFixed(0)} s`;
    const status = await stack.local("status");
    expect(status.exitCode).toBe(1);
    expect(status.stdout).toMatch(
      /-certbot\s+running \(unhealthy\).*the last certbot run failed \(failed .* renew\); nginx still serves the certificate valid until/,
    );
    expect(await certbotLogs()).toContain(
      "acme: certbot renew failed; the published certificate is unchanged",
    );
    const during = await served();
    expect(during).toEqual(before);
    expect((await chat.raw("GET", "/health")).status).toBe(200);
    const [reported] = (await logTimes("acme: certbot renew failed")).slice(-1);
    figures["failed renewal run (certbot start → failure reported)"] = await certbotRunSeconds(reported!);
    await pebble.setAddress(DOMAIN, undefined);
    const fixedAt = Date.now();
    await waitFor(
      "certbot to recover",
      async () => (await certbot()).health === "healthy",
      (CHECK_SECONDS * 2 + 120) * 1000,
    );
    figures["domain fixed → healthy again (next retry)"] = `${((Date.now() - fixedAt) / 1000).toFixed(0)} s`;
    const after = await served();
    expect(after.serial).not.toBe(before.serial);
    expect(after.trusted).toBe(true);
    expect((await stack.local("status")).exitCode).toBe(0);
  });
});
