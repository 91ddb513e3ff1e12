// The /ws endpoint: authenticates the upgrade, owns the connections, runs the heartbeat and
// closes everything with 1001 on shutdown.
import type { IncomingMessage, Server } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer, type WebSocket } from "ws";
import type { AccessClaims, TokenService } from "../domain/tokens.js";
import { ApiError } from "../domain/errors.js";
import { clientAddress, isGuess, type AuthFailureGuard, type TrustProxy } from "../http/auth-guard.js";
import type { PresenceTracker } from "../infra/presence.js";
import { CLOSE_BAD_TOKEN, CLOSE_GOING_AWAY, Connection, type ConnectionContext } from "./connection.js";

export const WS_PATH = "/ws";
/** Frame cap: a 4000-character message is at most ~16 KB of JSON; ws's default is 100 MiB. */
export const MAX_FRAME_BYTES = 64 * 1024;

export interface GatewayOptions extends ConnectionContext {
  tokens: TokenService;
  /** Failed authentications per address: a blocked address gets 429 before its token is read. */
  authGuard?: AuthFailureGuard;
  /** Whose X-Forwarded-For is believed (the same rule as Express's `trust proxy`). */
  trustProxy: TrustProxy;
  /** Open (and opening) WebSockets one client address may hold on this instance; more get 429. */
  maxConnectionsPerAddress?: number;
  instance: string;
  heartbeatMs: number;
  /** Cluster-wide "connected anywhere" (the worker e-mails only users who are not). */
  presence?: PresenceTracker;
}

export class WebSocketGateway {
  private readonly wss = new WebSocketServer({
    noServer: true,
    maxPayload: MAX_FRAME_BYTES,
    // Compression costs ~300 KB per socket with zlib contexts and CPU per frame; chat frames are small.
    perMessageDeflate: false,
    clientTracking: false,
  });
  private readonly connections = new Set<Connection>();
  /** Open and opening sockets per client address (idle-connection floods from one address). */
  private readonly perAddress = new Map<string, number>();
  private readonly heartbeat: NodeJS.Timeout;
  private accepting = true;

  constructor(private readonly options: GatewayOptions) {
    this.heartbeat = setInterval(() => this.sweep(), options.heartbeatMs);
    this.heartbeat.unref();
  }

  get size(): number {
    return this.connections.size;
  }

  attach(server: Server): void {
    server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) =>
      this.onUpgrade(req, socket, head),
    );
  }

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on("error", () => socket.destroy());
    const url = new URL(req.url ?? "/", "http://localhost");
    if (url.pathname !== WS_PATH) return reject(socket, 404, "Not Found");
    if (!this.accepting) return reject(socket, 503, "Service Unavailable");
    const address = clientAddress(req, this.options.trustProxy);
    const held = this.perAddress.get(address) ?? 0;
    if (held >= (this.options.maxConnectionsPerAddress ?? Infinity)) {
      this.options.metrics.wsRateLimited.inc();
      this.options.logger.warn({ remote: address, held }, "too many WebSockets from one address; refusing");
      return reject(socket, 429, "Too Many Requests", 10);
    }
    // Counted from now: sockets still authenticating hold a slot too.
    this.perAddress.set(address, held + 1);
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      const left = (this.perAddress.get(address) ?? 1) - 1;
      if (left > 0) this.perAddress.set(address, left);
      else this.perAddress.delete(address);
    };
    socket.once("close", release);
    const token = url.searchParams.get("token") ?? bearer(req.headers.authorization);
    const guard = this.options.authGuard;
    const verify = async (): Promise<AccessClaims | ApiError | number> => {
      const wait = guard ? await guard.retryAfterSeconds(address) : 0;
      if (wait > 0) return wait;
      if (!token)
        return new ApiError(
          401,
          "missing_token",
          "connect with ?token=<access_token> or Authorization: Bearer",
        );
      try {
        return await this.options.tokens.verifyAccessToken(token);
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
        if (isGuess(error.code)) guard?.recordFailure(address);
        return error;
      }
    };
    verify()
      .then((claims) => {
        if (typeof claims === "number") {
          release();
          return reject(socket, 429, "Too Many Requests", claims);
        }
        if (!this.accepting) {
          release();
          return reject(socket, 503, "Service Unavailable");
        }
        this.wss.handleUpgrade(req, socket, head, (ws) => {
          ws.once("close", release);
          this.onOpen(ws, claims);
        });
      })
      .catch((error: unknown) => {
        release();
        this.options.logger.error({ err: error }, "WebSocket upgrade failed");
        reject(socket, 500, "Internal Server Error");
      });
  }

  private onOpen(ws: WebSocket, claims: AccessClaims | ApiError): void {
    if (claims instanceof ApiError) {
      // The contract signals auth failures with close code 4001 (browsers cannot read a 401).
      ws.close(CLOSE_BAD_TOKEN, claims.code);
      return;
    }
    const connection = new Connection(ws, claims.userId, claims.clientId, claims.exp, this.options);
    this.connections.add(connection);
    this.options.metrics.wsConnections.inc();
    this.options.presence?.connected(claims.userId);
    ws.on("close", () => {
      connection.closed = true;
      this.connections.delete(connection);
      this.options.metrics.wsConnections.dec();
      this.options.hub.removeRecipient(connection);
      this.options.presence?.disconnected(claims.userId);
    });
    ws.on("error", () => ws.terminate());
    connection.deliver(
      `{"type":"ready","user_id":${JSON.stringify(claims.userId)},"instance":${JSON.stringify(this.options.instance)}}`,
    );
  }

  /** Heartbeat: reap connections that did not answer the last ping; close expired tokens. */
  private sweep(): void {
    const now = Date.now() / 1000;
    for (const connection of this.connections) {
      if (connection.expiresAt > 0 && connection.expiresAt <= now) {
        connection.close(CLOSE_BAD_TOKEN, "token_expired");
        continue;
      }
      if (!connection.isAlive) {
        connection.ws.terminate();
        continue;
      }
      connection.isAlive = false;
      connection.ws.ping();
    }
  }

  /** New upgrades are refused from now on (frames are refused through the shared lifecycle). */
  stopAccepting(): void {
    this.accepting = false;
    clearInterval(this.heartbeat);
  }

  /** Closes every connection with 1001 and waits (bounded) for them to go. */
  async closeAll(timeoutMs: number): Promise<void> {
    this.stopAccepting();
    const closed = [...this.connections].map(
      (connection) =>
        new Promise<void>((resolve) => {
          if (connection.ws.readyState === connection.ws.CLOSED) return resolve();
          connection.ws.once("close", () => resolve());
          connection.close(CLOSE_GOING_AWAY, "server shutting down");
        }),
    );
    const timer = new Promise<void>((resolve) => setTimeout(resolve, timeoutMs).unref());
    await Promise.race([Promise.all(closed), timer]);
    for (const connection of this.connections) connection.ws.terminate();
  }
}

function bearer(header: string | undefined): string | null {
  const match = /^Bearer\s+(\S+)$/i.exec(header ?? "");
  return match ? match[1]! : null;
}

function reject(socket: Duplex, status: number, text: string, retryAfterSeconds?: number): void {
  if (socket.writable) {
    const retry = retryAfterSeconds ? `Retry-After: ${retryAfterSeconds}\r\n` : "";
    socket.write(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\n${retry}Content-Length: 0\r\n\r\n`);
  }
  socket.destroy();
}
