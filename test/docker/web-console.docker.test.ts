// The web console of a local stack in a real browser (Debian's Chromium, driven by playwright-core):
// a stack brought up by scripts/local as developers do, two browser contexts signed in through the
// dev login as alice and bob, each WebSocket on a different API instance behind nginx, a room made
// in one and joined in the other, messages live both ways, the instance under alice stopped (her
// socket reconnects to the other one and nothing is lost), the history as a newcomer sees it, and
// the API reference rendered by Swagger UI. Screenshots: test-results/web-console/.
//
// nginx keeps each client address on one instance (hash $remote_addr); every browser here comes
// from the same address, so the stack trusts the Docker networks as a proxy in front of nginx and
// each context sends its own X-Forwarded-For, as browsers behind a load balancer or CDN would.
import { randomUUID } from "node:crypto";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { type Browser, type BrowserContext, type Page, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { docker } from "../../toolbox/exec";
import { stackDir } from "../../scripts/lib/stack-dir";
import { repoRoot } from "../support/paths";
import { runLocal } from "../support/local-stack";
import { freePort } from "../../toolbox/processes";

const CHROMIUM = "/usr/bin/chromium";
// As /work/.library/env/machines/polyglot.md starts it: no sandbox as root, nothing reaching out.
const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
const shots = join(repoRoot, "test-results", "web-console");
const stack = `wc${randomUUID().slice(0, 6)}`;
const prefix = `chatapi-${stack}`;
let ports: { http: number; https: number };
let base: string;
let browser: Browser;
let up: { exitCode: number; all: string };

const local = (command: "up" | "down", ...extra: string[]) => runLocal(stack, ports, command, extra);

/** The API instance a WebSocket from this (forwarded) client address lands on. */
async function instanceFor(address: string, token: string): Promise<string> {
  const ws = new WebSocket(`wss://localhost:${ports.https}/ws?token=${token}`, {
    headers: { "X-Forwarded-For": address },
    ca: readFileSync(join(stackDir(stack), "ca.pem"), "utf8"),
  });
  try {
    return await new Promise<string>((resolve, reject) => {
      ws.once("message", (data) =>
        resolve(String((JSON.parse(String(data)) as { instance: string }).instance)),
      );
      ws.once("error", reject);
    });
  } finally {
    ws.close();
  }
}

/** Two client addresses whose sockets nginx sends to different API instances. */
async function addressesOnTwoInstances(): Promise<{ address: string; instance: string }[]> {
  const json = { "content-type": "application/json" };
  const agent = { ca: readFileSync(join(stackDir(stack), "ca.pem"), "utf8") };
  // A throwaway user's token through the same dev login the console uses.
  const post = async (path: string, body: unknown, headers: Record<string, string> = {}) => {
    const { request } = await import("node:https");
    return new Promise<Record<string, string>>((resolve, reject) => {
      const req = request(
        {
          host: "localhost",
          port: ports.https,
          path,
          method: "POST",
          headers: { ...json, ...headers },
          ...agent,
        },
        (res) => {
          let text = "";
          res.on("data", (c: Buffer) => (text += c.toString()));
          res.on("end", () => resolve(JSON.parse(text) as Record<string, string>));
        },
      );
      req.on("error", reject);
      req.end(JSON.stringify(body));
    });
  };
  const key = (await post("/console/dev-login", {})).api_key!;
  const user = await post(
    "/api/v1/users",
    { external_id: "probe", display_name: "probe" },
    { "x-api-key": key },
  );
  const token = (await post("/api/v1/auth/token", { user_id: user.id }, { "x-api-key": key })).access_token!;
  const found: { address: string; instance: string }[] = [];
  for (let i = 1; i < 60 && found.length < 2; i++) {
    const address = `203.0.113.${i}`;
    const instance = await instanceFor(address, token);
    if (!found.some((f) => f.instance === instance)) found.push({ address, instance });
  }
  if (found.length < 2) throw new Error(`every address landed on ${found[0]?.instance}`);
  return found;
}

async function openConsole(address: string): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({
    ignoreHTTPSErrors: true, // the stack's own CA; the smoke checks verify TLS with it
    extraHTTPHeaders: { "X-Forwarded-For": address },
    viewport: { width: 1100, height: 900 },
  });
  const page = await context.newPage();
  await page.goto(base);
  return { context, page };
}

/** Polls until the check holds: a busy 2-core machine may take seconds (a hang guard, not a speed target). */
const until = <T>(check: () => Promise<T>) => expect.poll(check, { timeout: 30_000 });

async function signIn(page: Page, name: string): Promise<string> {
  await page.getByRole("button", { name: "Dev login (local stack)" }).click();
  await until(() => page.getByTestId("client-info").textContent()).toMatch(/dev login, client /);
  await page.getByLabel("Name").fill(name);
  await page.getByRole("button", { name: "Sign in as this user" }).click();
  await expect
    .poll(() => page.getByTestId("status").textContent(), { timeout: 20_000 })
    .toMatch(/^connected to /);
  return (await page.getByTestId("status").textContent())!.replace("connected to ", "");
}

const bodies = (page: Page) => page.locator("#messages li:not(.pending) .body").allTextContents();

beforeAll(async () => {
  ports = { http: await freePort(), https: await freePort() };
  base = `https://localhost:${ports.https}/`;
  up = await local(
    "up",
    "--set",
    'nginx.trustedProxies=["10.0.0.0/8","172.16.0.0/12","192.168.0.0/16"]',
    "--no-smoke",
  );
  if (up.exitCode !== 0) throw new Error(`scripts/local up failed:\n${up.all.slice(-6000)}`);
  mkdirSync(shots, { recursive: true });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}, 900_000);

afterAll(async () => {
  await browser?.close();
  if (!ports) return;
  const down = await local("down", "--volumes");
  if (down.exitCode !== 0) console.error(down.all);
}, 300_000);

describe("the web console of a local stack, in Chromium", () => {
  it("serves the console at / and keeps /metrics closed", async () => {
    expect(up.all).toMatch(/console\s+https:\/\/localhost:\d+\//);
    const page = await browser.newPage({ ignoreHTTPSErrors: true });
    const response = await page.goto(base);
    expect(response?.status()).toBe(200);
    expect(await page.title()).toBe("ChatAPI console");
    expect((await page.goto(`${base}metrics`))?.status()).toBe(404);
    await page.close();
  });

  it("lets two users on different API instances chat live, survives an instance stopping, and shows the history", async () => {
    const [a, b] = await addressesOnTwoInstances();
    const alice = await openConsole(a!.address);
    const bob = await openConsole(b!.address);
    expect(await signIn(alice.page, "alice")).toBe(a!.instance);
    expect(await signIn(bob.page, "bob")).toBe(b!.instance);

    // alice makes a room with bob; bob finds it in his list and opens it.
    await alice.page.getByLabel("New room").fill("lobby");
    await alice.page.getByLabel("with").fill("bob");
    await alice.page.getByRole("button", { name: "Create" }).click();
    await until(() => alice.page.getByTestId("room-title").textContent()).toBe("lobby");
    await bob.page.getByRole("button", { name: "Refresh" }).click();
    await bob.page.getByRole("button", { name: /^lobby / }).click();
    await until(() => bob.page.getByTestId("room-title").textContent()).toBe("lobby");

    const say = async (page: Page, text: string) => {
      await page.getByPlaceholder("Message").fill(text);
      await page.getByRole("button", { name: "Send" }).click();
    };
    await say(alice.page, "hello bob, from the first instance");
    await until(() => bodies(bob.page)).toEqual(["hello bob, from the first instance"]);
    await say(bob.page, "hi alice, from the other one");
    await until(() => bodies(alice.page)).toEqual([
      "hello bob, from the first instance",
      "hi alice, from the other one",
    ]);
    await alice.page.screenshot({ path: join(shots, "alice.png"), fullPage: true });
    await bob.page.screenshot({ path: join(shots, "bob.png"), fullPage: true });

    // The instance under alice stops: her socket closes, reconnects to the other one, resumes.
    await docker("stop", `${prefix}-${a!.instance}`);
    await expect
      .poll(() => alice.page.getByTestId("status").textContent(), { timeout: 60_000 })
      .toBe(`connected to ${b!.instance}`);
    expect(await alice.page.getByTestId("events").textContent()).toMatch(
      /socket closed \(\d+.*reconnecting in/,
    );
    await say(alice.page, "still here after the failover");
    await until(() => bodies(bob.page)).toEqual([
      "hello bob, from the first instance",
      "hi alice, from the other one",
      "still here after the failover",
    ]);
    await alice.page.screenshot({ path: join(shots, "alice-after-failover.png"), fullPage: true });

    // The history, as a console opened afresh loads it: bob in a new browser context.
    const later = await openConsole(b!.address);
    await signIn(later.page, "bob");
    await later.page.getByRole("button", { name: /^lobby / }).click();
    await until(() => bodies(later.page)).toHaveLength(3);
    expect(await later.page.getByTestId("events").textContent()).toContain(
      "room lobby: 3 messages of history",
    );
    await later.page.screenshot({ path: join(shots, "history.png"), fullPage: true });
    for (const open of [alice, bob, later]) await open.context.close();
  });

  it("renders the API reference (Swagger UI over the app's OpenAPI document)", async () => {
    const page = await browser.newPage({ ignoreHTTPSErrors: true, viewport: { width: 1100, height: 1400 } });
    await page.goto(`${base}console/api-reference/`);
    await expect.poll(() => page.locator(".opblock").count(), { timeout: 30_000 }).toBeGreaterThanOrEqual(12);
    expect(await page.locator(".opblock-summary-path").allTextContents()).toContain(
      "/api/v1/rooms/{id}/messages",
    );
    await page.screenshot({ path: join(shots, "api-reference.png") });
    await page.close();
  });
});
