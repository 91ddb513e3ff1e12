// Text that is stored refuses U+0000 as a validation error (422 / invalid_frame): PostgreSQL text
// cannot hold it, and every such request used to fail with a 500 (found by the fuzzing attack).
import { describe, expect, it } from "vitest";
import { createClientBody, createRoomBody, createUserBody, sendMessageBody } from "../src/http/schemas.js";
import { parseClientFrame } from "../src/ws/frames.js";

const ROOM = "6ba5921b-dcbe-4ffd-831e-2d5dda2f1a3f";

describe("NUL characters", () => {
  it("are refused in every stored REST field, naming the field", () => {
    const cases: Array<
      [
        {
          safeParse(v: unknown): {
            success: boolean;
            error?: { issues: Array<{ path: PropertyKey[]; message: string }> };
          };
        },
        object,
        string,
      ]
    > = [
      [createClientBody, { name: "a\u0000b", email: "a@b.co" }, "name"],
      [createUserBody, { external_id: "\u0000", display_name: "x" }, "external_id"],
      [createUserBody, { external_id: "x", display_name: "x\u0000" }, "display_name"],
      [createRoomBody, { name: "\u0000room" }, "name"],
      [sendMessageBody, { body: "hi\u0000" }, "body"],
      [sendMessageBody, { body: "hi", client_msg_id: "m\u0000" }, "client_msg_id"],
    ];
    for (const [schema, value, field] of cases) {
      const result = schema.safeParse(value);
      expect(result.success, field).toBe(false);
      expect(result.error!.issues.map((i) => `${i.path.join(".")}: ${i.message}`)).toContain(
        `${field}: must not contain the NUL character (U+0000)`,
      );
    }
  });

  it("are refused in WebSocket sends with an invalid_frame error (the connection stays usable)", () => {
    const body = parseClientFrame(
      JSON.stringify({ type: "send", room_id: ROOM, body: "x\u0000", client_msg_id: "c1" }),
    );
    expect(body).toMatchObject({ ok: false, code: "invalid_frame", ref: "c1" });
    const id = parseClientFrame(
      JSON.stringify({ type: "send", room_id: ROOM, body: "x", client_msg_id: "c\u0000" }),
    );
    expect(id).toMatchObject({ ok: false, code: "invalid_frame" });
  });

  it("other unusual text is still accepted", () => {
    expect(
      sendMessageBody.safeParse({ body: "tab\tnewline\n emoji 🙂 RTL \u202e zero-width \u200b" }).success,
    ).toBe(true);
    expect(createRoomBody.safeParse({ name: "Ünïcode ✓ room" }).success).toBe(true);
  });
});
