// Credentials in query strings never reach the logs (found by the secret-leak attack: a client
// that sent ?token=<jwt> had its token written to the request log).
import { describe, expect, it } from "vitest";
import { redactUrl } from "../src/observability/logger.js";

describe("redactUrl", () => {
  it("replaces the values of credential-like query parameters", () => {
    expect(
      redactUrl("/api/v1/rooms?token=eyJ.x.y&limit=5&api_key=cak_abc&access_token=a&X-Amz-Signature=s"),
    ).toBe(
      "/api/v1/rooms?token=[redacted]&limit=5&api_key=[redacted]&access_token=[redacted]&X-Amz-Signature=[redacted]",
    );
    expect(redactUrl("/ws?%74oken=abc&password=p&refresh_token=crt_1")).toBe(
      "/ws?%74oken=[redacted]&password=[redacted]&refresh_token=[redacted]",
    );
  });

  it("keeps other URLs as they are", () => {
    expect(redactUrl("/api/v1/rooms/1/messages?after_seq=3&limit=50")).toBe(
      "/api/v1/rooms/1/messages?after_seq=3&limit=50",
    );
    expect(redactUrl("/health")).toBe("/health");
    expect(redactUrl("/x?%E0%A4%A=1&flag")).toBe("/x?%E0%A4%A=1&flag");
    expect(redactUrl(undefined)).toBeUndefined();
  });
});
