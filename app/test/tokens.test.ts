// Access-token verification, including the per-process cache of verified tokens: a cached token
// still expires on time, and a token that failed is never remembered. No database needed.
import { SignJWT } from "jose";
import type pg from "pg";
import { describe, expect, it } from "vitest";
import { ApiError } from "../src/domain/errors.js";
import { TokenService } from "../src/domain/tokens.js";

const SECRET = "token-test-secret-0123456789abcdef0123456789";
const service = () =>
  new TokenService({} as pg.Pool, { secretKey: SECRET, accessTokenMinutes: 60, refreshTokenDays: 30 });

async function token(options: { expiresAt: number; secret?: string; typ?: string }): Promise<string> {
  return new SignJWT({ cid: "client-1", typ: options.typ ?? "access" })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setSubject("user-1")
    .setIssuer("chatapi")
    .setIssuedAt()
    .setExpirationTime(options.expiresAt)
    .sign(new TextEncoder().encode(options.secret ?? SECRET));
}

const code = (error: unknown) => (error instanceof ApiError ? error.code : String(error));
const now = () => Math.floor(Date.now() / 1000);

describe("TokenService.verifyAccessToken", () => {
  it("returns the claims, the same on a repeat", async () => {
    const tokens = service();
    const t = await token({ expiresAt: now() + 60 });
    const first = await tokens.verifyAccessToken(t);
    expect(first).toEqual({ userId: "user-1", clientId: "client-1", exp: now() + 60 });
    expect(await tokens.verifyAccessToken(t)).toEqual(first);
  });

  it("a remembered token still expires on time", async () => {
    const tokens = service();
    const t = await token({ expiresAt: now() + 2 });
    await tokens.verifyAccessToken(t);
    await new Promise((r) => setTimeout(r, 2100));
    expect(code(await tokens.verifyAccessToken(t).catch((e: unknown) => e))).toBe("token_expired");
  });

  it("never remembers a token that failed", async () => {
    const tokens = service();
    const forged = await token({
      expiresAt: now() + 60,
      secret: "another-secret-0123456789abcdef0123456789",
    });
    const refresh = await token({ expiresAt: now() + 60, typ: "refresh" });
    for (let i = 0; i < 2; i++) {
      expect(code(await tokens.verifyAccessToken(forged).catch((e: unknown) => e))).toBe("invalid_token");
      expect(code(await tokens.verifyAccessToken(refresh).catch((e: unknown) => e))).toBe("invalid_token");
    }
  });
});
