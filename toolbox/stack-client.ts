// A client of a deployed stack through its load balancer, over TLS verified against a given CA:
// REST calls and WebSocket connections (toolbox/chat-client's ChatSocket), for operator scripts
// (the smoke check) and for tests and measurements of running stacks. `domain` names the stack
// when the URL is an address (e.g. a `kubectl port-forward` on 127.0.0.1): TLS server name and
// Host header. `forwardedFor` names the client address nginx hashes WebSockets on when the first
// hop is a trusted proxy (chatapi:nginx.trustedProxies).
import { Agent, request } from "node:https";
import WebSocket from "ws";
import { API, ChatSocket } from "./chat-client";

export interface StackEndpoint {
  /** nginx's HTTPS listener, e.g. https://localhost:8443 */
  url: string;
  /** PEM the server certificate must chain to (default: the system's CAs). */
  ca?: string;
  /** The stack's domain when `url` is an address: TLS server name and Host header. */
  domain?: string;
  /** The REST prefix (API_V1_STR); /api/v1 unless given. */
  apiPrefix?: string;
  /**
   * Awaited before each request: e.g. until a restarted `kubectl port-forward` forwards again.
   * A request that was never sent (refused on connect, or its new connection closed before the
   * TLS handshake ended) is then tried again, at most 5 times.
   */
  ready?: () => Promise<void>;
}

export interface Credentials {
  apiKey?: string;
  token?: string;
  forwardedFor?: string;
}

export interface RestResponse<T = unknown> {
  status: number;
  body: T;
  text: string;
  headers: Record<string, string | string[] | undefined>;
  /** Negotiated TLS version, e.g. TLSv1.3. */
  tls: string | null;
}

/**
 * A request that cannot have reached the server: its connection was refused, or closed before
 * the TLS handshake ended (a `kubectl port-forward` accepts locally, then hangs up when it cannot
 * reach the pod). Safe to try again, whatever the method.
 */
const neverSent = (error: unknown) =>
  (error as NodeJS.ErrnoException).code === "ECONNREFUSED" ||
  (error as { beforeHandshake?: boolean }).beforeHandshake === true;

const TIMEOUT_MS = 30_000;

export class StackClient {
  /**
   * Keep-alive connections, closed by the client after 5 s idle (before nginx's 65 s): a
   * connection closed per request races the client's TLS close_notify against nginx's close,
   * and the reset that can follow ends a `kubectl port-forward` with every connection on it.
   */
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 8, timeout: 5_000 });
  private readonly target: URL;

  constructor(readonly endpoint: StackEndpoint) {
    this.target = new URL(endpoint.url);
  }

  /** The REST prefix without a trailing slash. */
  get apiPrefix(): string {
    return (this.endpoint.apiPrefix ?? API).replace(/\/$/, "");
  }

  /** Closes the pooled connections (a script exits only once they are gone). */
  close(): void {
    this.agent.destroy();
  }

  private tlsOptions() {
    return {
      ...(this.endpoint.ca ? { ca: this.endpoint.ca } : {}),
      ...(this.endpoint.domain ? { servername: this.endpoint.domain } : {}),
    };
  }

  private headers(credentials: Credentials): Record<string, string> {
    return {
      ...(this.endpoint.domain ? { host: `${this.endpoint.domain}:${this.target.port || 443}` } : {}),
      ...(credentials.apiKey ? { "x-api-key": credentials.apiKey } : {}),
      ...(credentials.token ? { authorization: `Bearer ${credentials.token}` } : {}),
      ...(credentials.forwardedFor ? { "x-forwarded-for": credentials.forwardedFor } : {}),
    };
  }

  /** Runs `attempt` after `ready`, again (at most 5 times) while the connection is refused. */
  private async retried<T>(attempt: () => Promise<T>): Promise<T> {
    for (let n = 1; ; n++) {
      await this.endpoint.ready?.();
      try {
        return await attempt();
      } catch (error) {
        if (!neverSent(error) || n >= 5) throw error;
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }

  /** One HTTPS request to nginx; `path` is the whole path (e.g. /health). */
  raw<T = unknown>(
    method: string,
    path: string,
    credentials: Credentials = {},
    body?: unknown,
  ): Promise<RestResponse<T>> {
    return this.retried(() => this.once<T>(method, path, credentials, body));
  }

  private once<T>(method: string, path: string, credentials: Credentials, body?: unknown) {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise<RestResponse<T>>((resolve, reject) => {
      const req = request(
        {
          host: this.target.hostname,
          port: this.target.port || 443,
          ...this.tlsOptions(),
          method,
          path,
          agent: this.agent,
          timeout: TIMEOUT_MS,
          headers: {
            accept: "application/json",
            ...this.headers(credentials),
            ...(payload ? { "content-type": "application/json" } : {}),
          },
        },
        (res) => {
          // Read now: with keep-alive the socket goes back to the pool once the body has ended.
          const tls = (res.socket as { getProtocol?: () => string | null }).getProtocol?.() ?? null;
          let text = "";
          res.on("data", (chunk: Buffer) => (text += chunk.toString()));
          res.on("end", () => {
            let parsed: unknown = text;
            try {
              parsed = text ? JSON.parse(text) : undefined;
            } catch {
              // not JSON (e.g. an nginx error page)
            }
            resolve({ status: res.statusCode ?? 0, body: parsed as T, text, headers: res.headers, tls });
          });
          res.on("error", reject);
        },
      );
      req.on("timeout", () =>
        req.destroy(new Error(`${method} ${path}: no answer within ${TIMEOUT_MS / 1000} s`)),
      );
      // A pooled socket is already past its handshake: a failure on it may follow the request.
      let handshaken = false;
      req.on("socket", (socket) => {
        if (req.reusedSocket) handshaken = true;
        else socket.once("secureConnect", () => (handshaken = true));
      });
      req.on("error", (error) =>
        reject(
          Object.assign(new Error(`${method} ${this.target.host}${path}: ${error.message}`), {
            code: (error as NodeJS.ErrnoException).code,
            beforeHandshake: !handshaken,
          }),
        ),
      );
      req.end(payload);
    });
  }

  /** A call that must answer one of `expected`; the error names the call and what came back. */
  async expect<T = Record<string, unknown>>(
    expected: number | number[],
    method: string,
    path: string,
    credentials: Credentials = {},
    body?: unknown,
  ): Promise<T> {
    const res = await this.raw<T>(method, path, credentials, body);
    const wanted = Array.isArray(expected) ? expected : [expected];
    if (!wanted.includes(res.status))
      throw new Error(
        `${method} ${path}: expected ${wanted.join(" or ")}, got ${res.status} ${res.text.slice(0, 300)}`,
      );
    return res.body;
  }

  /** A call under the API prefix that must answer `expected` (any 2xx of 200/201/204 by default). */
  api<T = Record<string, unknown>>(
    method: string,
    path: string,
    credentials: Credentials,
    body?: unknown,
    expected: number[] = [200, 201, 204],
  ): Promise<T> {
    return this.expect<T>(expected, method, `${this.apiPrefix}${path}`, credentials, body);
  }

  /** Opens /ws; resolves once the `ready` frame came (its `instance` is the socket's). */
  openSocket(token: string, forwardedFor?: string, timeoutMs = 15_000): Promise<ChatSocket> {
    return this.retried(() => this.openSocketOnce(token, forwardedFor, timeoutMs));
  }

  private async openSocketOnce(token: string, forwardedFor: string | undefined, timeoutMs: number) {
    const url = `wss://${this.target.host}/ws?token=${encodeURIComponent(token)}`;
    const ws = new WebSocket(url, {
      // ws passes servername on to tls.connect (SNI and the name checked), though its types omit it
      ...(this.tlsOptions() as WebSocket.ClientOptions),
      headers: this.headers({ ...(forwardedFor ? { forwardedFor } : {}) }),
      handshakeTimeout: timeoutMs,
    });
    const socket = new ChatSocket(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once("open", () => resolve());
      ws.once("unexpected-response", (_req, res) => {
        ws.terminate();
        reject(new Error(`WebSocket ${this.target.host}/ws: upgrade answered HTTP ${res.statusCode}`));
      });
      ws.once("error", reject);
    });
    const ready = await socket.next((f) => f.type === "ready", 0, timeoutMs);
    if (!ready) {
      socket.terminate();
      throw new Error(
        socket.closeCode === undefined
          ? `WebSocket ${this.target.host}/ws: no ready frame within ${timeoutMs} ms`
          : `WebSocket ${this.target.host}/ws closed before ready: ${socket.closeCode} ${socket.closeReason}`,
      );
    }
    return socket;
  }
}
