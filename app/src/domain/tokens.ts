// User access tokens (HS256 JWTs signed with SECRET_KEY) and opaque, single-use refresh
// tokens grouped in families: presenting a spent refresh token again revokes its family.
import { randomUUID } from "node:crypto";
import { errors as joseErrors, jwtVerify, SignJWT } from "jose";
import type pg from "pg";
import { unauthorized } from "./errors.js";
import { digest, newRefreshToken } from "./secrets.js";

export interface TokenSettings {
  secretKey: string;
  accessTokenMinutes: number;
  refreshTokenDays: number;
}

export interface AccessClaims {
  userId: string;
  clientId: string;
  /** Expiry, seconds since the epoch. */
  exp: number;
}

export interface TokenPair {
  access_token: string;
  refresh_token: string;
  token_type: "bearer";
  expires_in: number;
}

const ISSUER = "chatapi";
/** Verified access tokens remembered per process (a user sends the same token many times). */
const VERIFIED_CACHE_SIZE = 10_000;

export class TokenService {
  private readonly key: Uint8Array;
  /**
   * Claims of tokens this process already verified, until they expire. Verifying is an HMAC on
   * libuv's thread pool per request; a cached token is only looked up. Access tokens cannot be
   * revoked before they expire (API.md), so a remembered verification never outlives its truth.
   */
  private readonly verified = new Map<string, AccessClaims>();

  constructor(
    private readonly pool: pg.Pool,
    private readonly settings: TokenSettings,
  ) {
    this.key = new TextEncoder().encode(settings.secretKey);
  }

  async signAccessToken(userId: string, clientId: string): Promise<{ token: string; expiresIn: number }> {
    const expiresIn = Math.max(1, Math.round(this.settings.accessTokenMinutes * 60));
    const now = Math.floor(Date.now() / 1000);
    const token = await new SignJWT({ cid: clientId, typ: "access" })
      .setProtectedHeader({ alg: "HS256", typ: "JWT" })
      .setSubject(userId)
      .setIssuer(ISSUER)
      .setIssuedAt(now)
      .setExpirationTime(now + expiresIn)
      .setJti(randomUUID())
      .sign(this.key);
    return { token, expiresIn };
  }

  /** Verifies an access token; throws a 401 ApiError (code token_expired or invalid_token). */
  async verifyAccessToken(token: string): Promise<AccessClaims> {
    const known = this.verified.get(token);
    if (known && known.exp > Date.now() / 1000) return known;
    this.verified.delete(token);
    try {
      const { payload } = await jwtVerify(token, this.key, { algorithms: ["HS256"], issuer: ISSUER });
      if (payload.typ !== "access" || typeof payload.sub !== "string" || typeof payload.cid !== "string") {
        throw unauthorized("invalid_token", "not an access token");
      }
      const claims = { userId: payload.sub, clientId: payload.cid, exp: payload.exp ?? 0 };
      if (claims.exp > 0) {
        // Oldest first out: a Map iterates in insertion order.
        if (this.verified.size >= VERIFIED_CACHE_SIZE)
          this.verified.delete(this.verified.keys().next().value!);
        this.verified.set(token, claims);
      }
      return claims;
    } catch (error) {
      if (error instanceof joseErrors.JWTExpired)
        throw unauthorized("token_expired", "the access token has expired");
      if (error instanceof joseErrors.JOSEError)
        throw unauthorized("invalid_token", "the access token is invalid");
      throw error;
    }
  }

  /** A fresh pair starting a new refresh-token family. */
  async issuePair(userId: string, clientId: string): Promise<TokenPair> {
    return this.issueInFamily(this.pool, userId, clientId, randomUUID());
  }

  /** Rotates a refresh token: single use; reuse of a spent one revokes the whole family. */
  async refresh(refreshToken: string): Promise<TokenPair> {
    const db = await this.pool.connect();
    try {
      await db.query("BEGIN");
      const { rows } = await db.query<{
        id: string;
        family_id: string;
        user_id: string;
        client_id: string;
        used_at: Date | null;
        revoked_at: Date | null;
        expired: boolean;
      }>(
        `SELECT t.id, t.family_id, t.user_id, u.client_id, t.used_at, t.revoked_at, t.expires_at <= now() AS expired
           FROM refresh_tokens t JOIN users u ON u.id = t.user_id
          WHERE t.token_hash = $1
          FOR UPDATE OF t`,
        [digest(refreshToken)],
      );
      const row = rows[0];
      if (!row) throw unauthorized("invalid_refresh_token", "the refresh token is not valid");
      if (row.revoked_at) throw unauthorized("refresh_token_revoked", "the refresh token has been revoked");
      if (row.used_at) {
        // Someone presented a spent token: it may have been stolen. Revoke every descendant.
        await db.query(
          "UPDATE refresh_tokens SET revoked_at = now() WHERE family_id = $1 AND revoked_at IS NULL",
          [row.family_id],
        );
        await db.query("COMMIT");
        throw unauthorized(
          "refresh_token_reused",
          "the refresh token was already used; every token of its family is now revoked",
        );
      }
      if (row.expired) throw unauthorized("refresh_token_expired", "the refresh token has expired");
      await db.query("UPDATE refresh_tokens SET used_at = now() WHERE id = $1", [row.id]);
      const pair = await this.issueInFamily(db, row.user_id, row.client_id, row.family_id);
      await db.query("COMMIT");
      return pair;
    } catch (error) {
      await db.query("ROLLBACK").catch(() => undefined);
      throw error;
    } finally {
      db.release();
    }
  }

  private async issueInFamily(
    db: pg.Pool | pg.PoolClient,
    userId: string,
    clientId: string,
    familyId: string,
  ): Promise<TokenPair> {
    const refreshToken = newRefreshToken();
    await db.query(
      `INSERT INTO refresh_tokens (token_hash, family_id, user_id, expires_at)
       VALUES ($1, $2, $3, now() + make_interval(secs => $4))`,
      [digest(refreshToken), familyId, userId, this.settings.refreshTokenDays * 86400],
    );
    const { token, expiresIn } = await this.signAccessToken(userId, clientId);
    return { access_token: token, refresh_token: refreshToken, token_type: "bearer", expires_in: expiresIn };
  }
}
