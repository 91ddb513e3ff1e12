// One benchmark WebSocket client per system under test, all on the same `ws` client library
// with the same options, so the generator spends the same effort per frame whatever it talks to.
// Frames are classified by a byte or a prefix and never JSON-parsed here; the benchmark payload
// is found by its marker (lib/marker.ts).
//
// Socket.IO is spoken directly (Engine.IO v4 over a WebSocket, Socket.IO packet types 0/2/3):
// the official client would add its own parser and event machinery to the peer's side of the
// generator only. The packets are those of the Socket.IO protocol v5 documentation.
import { randomBytes } from "node:crypto";
import WebSocket from "ws";
import { readIntAfter } from "./marker";

export const SYSTEMS = ["chatapi", "socketio", "socketio-pg", "ws-redis", "ws-redis-pg"] as const;
export type SystemName = (typeof SYSTEMS)[number];

export interface BenchClient {
  readonly ws: WebSocket;
  /** Joins/subscribes one room (ChatAPI may resume after a seq); resolves when confirmed. */
  join(room: string, afterSeq?: number): Promise<void>;
  /** Sends a message; `ref` comes back in onAck / onSendError. */
  send(room: string, body: string, ref: number): void;
  onDelivery: (frame: Buffer) => void;
  onAck: (ref: number) => void;
  onSendError: (ref: number, frame: string) => void;
  /** ChatAPI: the room's last_seq when the subscription was confirmed (-1 elsewhere). */
  readonly joinedSeq: number;
  close(): void;
}

const CLIENT_OPTIONS = { perMessageDeflate: false, skipUTF8Validation: true, handshakeTimeout: 30_000 };

const wsUrl = (base: string) => base.replace(/^http/, "ws");

/** Opens a client of `system` on the instance at `base` (http://host:port). */
export function openClient(system: SystemName, base: string, credential: string): Promise<BenchClient> {
  switch (system) {
    case "chatapi":
      return ChatApiClient.open(base, credential);
    case "socketio":
    case "socketio-pg":
      return SocketIoClient.open(base, credential);
    case "ws-redis":
    case "ws-redis-pg":
      return WsRedisClient.open(base, credential);
  }
}

abstract class BaseClient implements BenchClient {
  onDelivery: (frame: Buffer) => void = () => undefined;
  onAck: (ref: number) => void = () => undefined;
  onSendError: (ref: number, frame: string) => void = () => undefined;
  joinedSeq = -1;
  protected joining: { resolve(): void; reject(error: Error): void } | undefined;

  constructor(readonly ws: WebSocket) {
    ws.on("close", () => this.joining?.reject(new Error("connection closed while joining")));
  }

  abstract join(room: string, afterSeq?: number): Promise<void>;
  abstract send(room: string, body: string, ref: number): void;

  close(): void {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close();
  }

  protected waitJoin(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.joining = { resolve, reject };
    });
  }

  protected settleJoin(error?: Error): void {
    const joining = this.joining;
    this.joining = undefined;
    if (error) joining?.reject(error);
    else joining?.resolve();
  }
}

/** Opens a socket and resolves on the first frame that `isReady` accepts. */
function connect(url: string, isReady: (frame: Buffer, ws: WebSocket) => boolean): Promise<WebSocket> {
  return new Promise<WebSocket>((resolve, reject) => {
    const ws = new WebSocket(url, CLIENT_OPTIONS);
    const fail = (error: Error) => {
      ws.terminate();
      reject(error);
    };
    const onMessage = (data: Buffer) => {
      if (!isReady(data, ws)) return;
      ws.off("message", onMessage);
      ws.off("error", fail);
      ws.on("error", () => undefined);
      resolve(ws);
    };
    ws.on("message", onMessage);
    ws.on("error", fail);
    ws.once("close", (code) => reject(new Error(`closed (${code}) before the handshake finished`)));
  });
}

// ChatAPI frames start with {"type":" (9 bytes), so byte 9 is the type's first letter.
const TYPE_AT = 9;
const ACK_ID = Buffer.from('"client_msg_id":"b');
const ERROR_REF = Buffer.from('"ref":"b');
const LAST_SEQ = Buffer.from('"last_seq":');

class ChatApiClient extends BaseClient {
  /** client_msg_id is "b<ref>.<tag>": unique per connection, since ChatAPI dedupes by (sender, id). */
  private readonly tag = randomBytes(6).toString("hex");

  static async open(base: string, token: string): Promise<ChatApiClient> {
    const ws = await connect(
      `${wsUrl(base)}/ws?token=${encodeURIComponent(token)}`,
      (f) => f[TYPE_AT] === 0x72,
    ); // ready
    return new ChatApiClient(ws);
  }

  constructor(ws: WebSocket) {
    super(ws);
    ws.on("message", (frame: Buffer) => {
      switch (frame[TYPE_AT]) {
        case 0x6d: // message
          this.onDelivery(frame);
          break;
        case 0x61: // ack
          this.onAck(readIntAfter(frame, ACK_ID));
          break;
        case 0x73: // subscribed
          this.joinedSeq = readIntAfter(frame, LAST_SEQ);
          this.settleJoin();
          break;
        case 0x65: {
          // error: about a send (ref "b<n>") or about the pending subscribe
          const ref = readIntAfter(frame, ERROR_REF);
          if (ref >= 0) this.onSendError(ref, frame.toString());
          else this.settleJoin(new Error(`subscribe failed: ${frame.toString()}`));
          break;
        }
      }
    });
  }

  join(room: string, afterSeq?: number): Promise<void> {
    const joined = this.waitJoin();
    const after = afterSeq === undefined ? "" : `,"after_seq":${afterSeq}`;
    this.ws.send(`{"type":"subscribe","room_id":"${room}"${after},"ref":"join"}`);
    return joined;
  }

  send(room: string, body: string, ref: number): void {
    this.ws.send(
      `{"type":"send","room_id":"${room}","body":${JSON.stringify(body)},"client_msg_id":"b${ref}.${this.tag}"}`,
    );
  }
}

// Engine.IO packet types are the first byte; Socket.IO packets ride in Engine.IO "4" (message).
const EIO_OPEN = 0x30; // "0"
const EIO_PING = 0x32; // "2"
const EIO_MESSAGE = 0x34; // "4"
const SIO_CONNECT = 0x30; // "40"
const SIO_EVENT = 0x32; // "42"
const SIO_ACK = 0x33; // "43<id>[...]"
const SIO_CONNECT_ERROR = 0x34; // "44"
const JOIN_ACK_ID = 0;
const SIO_ERROR = Buffer.from('"error"');

function sioAckId(frame: Buffer): number {
  let id = 0;
  let digits = 0;
  for (let i = 2; i < frame.length; i++) {
    const c = frame[i]!;
    if (c < 0x30 || c > 0x39) break;
    id = id * 10 + (c - 0x30);
    digits++;
  }
  return digits > 0 ? id : -1;
}

class SocketIoClient extends BaseClient {
  static async open(base: string, user: string): Promise<SocketIoClient> {
    const url = `${wsUrl(base)}/socket.io/?EIO=4&transport=websocket&user=${encodeURIComponent(user)}`;
    const ws = await connect(url, (frame, socket) => {
      if (frame[0] === EIO_OPEN)
        socket.send("40"); // connect to the main namespace
      else if (frame[0] === EIO_MESSAGE && frame[1] === SIO_CONNECT) return true;
      else if (frame[0] === EIO_MESSAGE && frame[1] === SIO_CONNECT_ERROR) socket.terminate();
      return false;
    });
    return new SocketIoClient(ws);
  }

  constructor(ws: WebSocket) {
    super(ws);
    ws.on("message", (frame: Buffer) => {
      if (frame[0] === EIO_PING) {
        ws.send("3"); // pong
        return;
      }
      if (frame[0] !== EIO_MESSAGE) return;
      if (frame[1] === SIO_EVENT) this.onDelivery(frame);
      else if (frame[1] === SIO_ACK) {
        const id = sioAckId(frame);
        if (id === JOIN_ACK_ID) this.settleJoin();
        // The durable peer acks {"error": ...} when the INSERT failed.
        else if (id > 0 && frame.includes(SIO_ERROR)) this.onSendError(id - 1, frame.toString());
        else if (id > 0) this.onAck(id - 1);
      }
    });
  }

  join(room: string): Promise<void> {
    const joined = this.waitJoin();
    this.ws.send(`42${JOIN_ACK_ID}["join",${JSON.stringify(room)}]`);
    return joined;
  }

  send(room: string, body: string, ref: number): void {
    this.ws.send(`42${ref + 1}["send",${JSON.stringify({ room, body })}]`);
  }
}

const WS_REF = Buffer.from('"ref":');

class WsRedisClient extends BaseClient {
  static async open(base: string, user: string): Promise<WsRedisClient> {
    const ws = await connect(`${wsUrl(base)}/?user=${encodeURIComponent(user)}`, (f) => f[TYPE_AT] === 0x72); // ready
    return new WsRedisClient(ws);
  }

  constructor(ws: WebSocket) {
    super(ws);
    ws.on("message", (frame: Buffer) => {
      switch (frame[TYPE_AT]) {
        case 0x6d: // message
          this.onDelivery(frame);
          break;
        case 0x61: // ack
          this.onAck(readIntAfter(frame, WS_REF));
          break;
        case 0x6a: // joined
          this.settleJoin();
          break;
        case 0x65: // error
          this.onSendError(readIntAfter(frame, WS_REF), frame.toString());
          break;
      }
    });
  }

  join(room: string): Promise<void> {
    const joined = this.waitJoin();
    this.ws.send(`{"type":"join","room":${JSON.stringify(room)}}`);
    return joined;
  }

  send(room: string, body: string, ref: number): void {
    this.ws.send(
      `{"type":"send","room":${JSON.stringify(room)},"body":${JSON.stringify(body)},"ref":${ref}}`,
    );
  }
}
