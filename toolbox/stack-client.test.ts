// StackClient's retry rule against a real TLS server on loopback: a request that cannot have
// reached the server (its connection hung up before the TLS handshake ended, as a
// `kubectl port-forward` does when it cannot reach the pod) is sent again; one that may have
// reached it is never sent twice.
import { createServer as createHttpsServer, type Server } from "node:https";
import { createServer as createTcpServer, type AddressInfo, type Server as TcpServer } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { makeCertificate } from "../test/support/tls-fixture";
import { StackClient } from "./stack-client";

const DOMAIN = "stack.client.test";
const tls = makeCertificate(DOMAIN);
const closers: (() => void)[] = [];
afterEach(() => closers.splice(0).forEach((close) => close()));

function listen(server: Server | TcpServer): Promise<number> {
  closers.push(() => server.close());
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () => resolve((server.address() as AddressInfo).port)),
  );
}

/** A TLS server whose first `hangUps` connections are closed before the handshake. */
async function flakyFront(hangUps: number, onRequest: (method: string) => void, connections = { count: 0 }) {
  const https = createHttpsServer({ key: tls.privateKey, cert: tls.certificate }, (req, res) => {
    onRequest(req.method ?? "");
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify({ ok: true }));
  });
  const front = createTcpServer((socket) => {
    connections.count++;
    if (hangUps-- > 0) return socket.destroy();
    https.emit("connection", socket);
  });
  return listen(front);
}

const client = (port: number) => {
  const c = new StackClient({ url: `https://127.0.0.1:${port}`, domain: DOMAIN, ca: tls.certificate });
  closers.push(() => c.close());
  return c;
};

describe("StackClient retries only what was never sent", () => {
  it("sends a POST again after its connection hung up before the TLS handshake", async () => {
    const seen: string[] = [];
    const port = await flakyFront(2, (method) => seen.push(method));
    const res = await client(port).raw("POST", "/api/v1/auth/token", {}, { username: "a" });
    expect(res.status).toBe(200);
    expect(seen).toEqual(["POST"]);
  });

  it("gives up after 5 attempts, naming the call", async () => {
    const connections = { count: 0 };
    const port = await flakyFront(5, () => undefined, connections);
    await expect(client(port).raw("POST", "/api/v1/auth/token")).rejects.toThrow(
      /POST 127\.0\.0\.1:\d+\/api\/v1\/auth\/token: (socket hang up|Client network socket disconnected)/,
    );
    expect(connections.count).toBe(5);
  });

  it("never sends twice a request whose connection closed after the server had it", async () => {
    let received = 0;
    const server = createHttpsServer({ key: tls.privateKey, cert: tls.certificate }, (req) => {
      received++;
      req.socket.destroy(); // the request arrived; the answer is lost
    });
    const port = await listen(server);
    await expect(client(port).raw("POST", "/api/v1/messages", {}, { text: "once" })).rejects.toThrow(
      /socket hang up/,
    );
    expect(received).toBe(1);
  });
});
