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

async function token(options: {
  expiresAt: number | null;
  secret?: string;
  typ?: string;
  audience?: string | null;
  issuer?: string;
}): Promise<string> {
  const jwt = new SignJWT({ cid: "client-1", typ: options.typ ?? "access" })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setSubject("user-1")
    .setIssuer(options.issuer ?? "chatapi");
  if (options.audience !== null) jwt.setAudience(options.audience ?? "chatapi-api");
  jwt.setIssuedAt();
  if (options.expiresAt !== null) jwt.setExpirationTime(options.expiresAt);
  return jwt.sign(new TextEncoder().encode(options.secret ?? SECRET));
}

const code = (error: unknown) => (error instanceof ApiError ? error.code : String(error));
const now = () => Math.floor(Date.now() / 1000);

describe("TokenService.verifyAccessToken", () => {
  it("returns the claims, the same on a repeat", async () => {
    const tokens = service();
    const expiresAt = now() + 60; // read the clock once: a second may tick between two reads
    const t = await token({ expiresAt });
    const first = await tokens.verifyAccessToken(t);
    expect(first).toEqual({ userId: "user-1", clientId: "client-1", exp: expiresAt });
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

  it("refuses a token signed with the right key for another audience or issuer, or without an audience or an expiry", async () => {
    const tokens = service();
    for (const forged of [
      await token({ expiresAt: now() + 60, audience: "another-service" }),
      await token({ expiresAt: now() + 60, audience: null }),
      await token({ expiresAt: now() + 60, issuer: "someone-else" }),
      await token({ expiresAt: null }),
    ]) {
      expect(code(await tokens.verifyAccessToken(forged).catch((e: unknown) => e))).toBe("invalid_token");
    }
  });

  it("issues tokens it accepts (issuer and audience set)", async () => {
    const tokens = service();
    const { token: issued } = await tokens.signAccessToken("user-9", "client-9");
    const payload = JSON.parse(Buffer.from(issued.split(".")[1]!, "base64url").toString()) as Record<
      string,
      unknown
    >;
    expect(payload).toMatchObject({ iss: "chatapi", aud: "chatapi-api", sub: "user-9", cid: "client-9" });
    expect((await tokens.verifyAccessToken(issued)).userId).toBe("user-9");
  });
});
