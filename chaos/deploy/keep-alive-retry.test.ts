// The retry a browser makes on a connection the server closed before answering, against a real
// HTTP server that drops the first n requests' connections unanswered.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Agent, fetch as undiciFetch } from "undici";
import { afterEach, describe, expect, it } from "vitest";
import { withKeepAliveRetry } from "./keep-alive-retry";

let server: Server | undefined;
afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

/** A server that destroys the connection of its first `drops` requests, then answers 200 with the body it got. */
async function dropping(drops: number): Promise<{ url: string; requests: () => number }> {
  let requests = 0;
  server = createServer((req, res) => {
    requests++;
    if (requests <= drops) return req.socket.destroy();
    let body = "";
    req.on("data", (chunk: Buffer) => (body += chunk.toString()));
    req.on("end", () => res.end(`got ${body}`));
  });
  await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, requests: () => requests };
}

const dispatcher = new Agent();
const plainFetch = ((url: string, init?: RequestInit) =>
  undiciFetch(url, { ...(init as object), dispatcher })) as unknown as typeof fetch;

describe("withKeepAliveRetry", () => {
  it("sends a request the server dropped unanswered once more, on a new connection, and reports it", async () => {
    const { url, requests } = await dropping(1);
    const retries: unknown[] = [];
    const response = await withKeepAliveRetry(plainFetch, (e) => retries.push(e))(url, {
      method: "POST",
      body: "hello",
    });
    expect(await response.text()).toBe("got hello");
    expect(requests()).toBe(2);
    expect(retries).toHaveLength(1);
    expect(String((retries[0] as { cause: unknown }).cause)).toContain("other side closed");
  });

  it("retries only once: a second drop reaches the caller", async () => {
    const { url, requests } = await dropping(2);
    let retries = 0;
    await expect(withKeepAliveRetry(plainFetch, () => retries++)(url)).rejects.toThrow("fetch failed");
    expect(requests()).toBe(2);
    expect(retries).toBe(1);
  });

  it("never retries a request that got an answer, or one refused at connect", async () => {
    const { url, requests } = await dropping(0);
    let retries = 0;
    const retrying = withKeepAliveRetry(plainFetch, () => retries++);
    expect((await retrying(url, { method: "POST", body: "x" })).status).toBe(200);
    expect(requests()).toBe(1);
    await expect(retrying("http://127.0.0.1:1/")).rejects.toThrow("fetch failed");
    expect(retries).toBe(0);
  });
});
