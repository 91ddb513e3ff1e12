// WebSocket frame parsing and the fan-out payload encoding.
import { describe, expect, it } from "vitest";
import { ackFrame, decodePayload, encodeMessage, kickPayload, messagePayload } from "../src/ws/encode.js";
import { errorFrame, parseClientFrame } from "../src/ws/frames.js";

const room = "3f0c6b8e-9d1a-4c2b-8e3f-0a1b2c3d4e5f";

describe("parseClientFrame", () => {
  it("accepts the four client frames", () => {
    expect(parseClientFrame(`{"type":"subscribe","room_id":"${room}","after_seq":3}`)).toEqual({
      ok: true,
      frame: { type: "subscribe", room_id: room, after_seq: 3 },
    });
    expect(parseClientFrame(`{"type":"unsubscribe","room_id":"${room}"}`).ok).toBe(true);
    expect(parseClientFrame(`{"type":"send","room_id":"${room}","body":"hi","client_msg_id":"c1"}`).ok).toBe(
      true,
    );
    expect(parseClientFrame(`{"type":"ping"}`)).toEqual({ ok: true, frame: { type: "ping" } });
  });

  it("names what is wrong", () => {
    expect(parseClientFrame("{")).toMatchObject({ ok: false, code: "invalid_json" });
    expect(parseClientFrame("null")).toMatchObject({ ok: false, code: "invalid_frame" });
    expect(parseClientFrame('{"type":"x","ref":"r"}')).toMatchObject({
      ok: false,
      code: "unknown_type",
      ref: "r",
    });
    const bad = parseClientFrame(`{"type":"send","room_id":"${room}","body":"","client_msg_id":"c9"}`);
    expect(bad).toMatchObject({ ok: false, code: "invalid_frame", ref: "c9" });
    expect(bad.ok === false && bad.message).toContain("body");
    expect(parseClientFrame(`{"type":"subscribe","room_id":"${room}","after_seq":-1}`)).toMatchObject({
      ok: false,
      code: "invalid_frame",
    });
    expect(
      parseClientFrame(
        `{"type":"send","room_id":"${room}","body":"${"y".repeat(4001)}","client_msg_id":"c"}`,
      ),
    ).toMatchObject({ ok: false });
    expect(
      parseClientFrame(
        `{"type":"send","room_id":"${room}","body":"${"😀".repeat(4000)}","client_msg_id":"c"}`,
      ).ok,
    ).toBe(true);
  });

  it("error frames carry code, message and the optional ref", () => {
    expect(JSON.parse(errorFrame("c", "m", "r"))).toEqual({
      type: "error",
      code: "c",
      message: "m",
      ref: "r",
    });
    expect(JSON.parse(errorFrame("c", "m"))).toEqual({ type: "error", code: "c", message: "m" });
  });
});

describe("encoding", () => {
  const message = {
    id: "a1",
    room_id: room,
    seq: 42,
    sender_id: "u1",
    body: 'quote " and ünïcode 😀',
    client_msg_id: "c1",
    created_at: new Date("2024-01-02T03:04:05.678Z"),
  };

  it("serialises a message frame once, and the ack reuses the same JSON", () => {
    const encoded = encodeMessage(message);
    const frame = JSON.parse(encoded.frame.toString("utf8"));
    expect(frame).toEqual({
      type: "message",
      message: { ...message, created_at: "2024-01-02T03:04:05.678Z" },
    });
    expect(JSON.parse(ackFrame("c1", encoded.json))).toEqual({
      type: "ack",
      client_msg_id: "c1",
      message: frame.message,
    });
  });

  it("round-trips fan-out payloads without parsing JSON", () => {
    const encoded = encodeMessage(message);
    const decoded = decodePayload(messagePayload(42, encoded.frame));
    expect(decoded.kind).toBe("message");
    if (decoded.kind === "message") {
      expect(decoded.seq).toBe(42);
      expect(decoded.frame.equals(encoded.frame)).toBe(true);
    }
    expect(decodePayload(kickPayload("u-1"))).toEqual({ kind: "kick", userId: "u-1" });
    expect(decodePayload(Buffer.from("M x"))).toEqual({ kind: "unknown" });
    expect(decodePayload(Buffer.from("?"))).toEqual({ kind: "unknown" });
  });
});
