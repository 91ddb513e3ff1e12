// Opaque credentials (API keys, refresh tokens): 32 random bytes, stored only as a SHA-256
// digest. A slow password hash (bcrypt/argon2) protects low-entropy human passwords; these
// tokens carry 256 bits of randomness, so a plain digest cannot be reversed or brute-forced,
// and it keeps the per-request lookup a single indexed equality match.
import { createHash, randomBytes } from "node:crypto";

export const API_KEY_PREFIX = "cak_";
export const REFRESH_TOKEN_PREFIX = "crt_";

export function newApiKey(): string {
  return API_KEY_PREFIX + randomBytes(32).toString("base64url");
}

export function newRefreshToken(): string {
  return REFRESH_TOKEN_PREFIX + randomBytes(32).toString("base64url");
}

export function digest(token: string): Buffer {
  return createHash("sha256").update(token, "utf8").digest();
}

/** A key supplied by an operator (--api-key-file) must still be hard to guess. */
export function checkSuppliedApiKey(key: string): string | undefined {
  if (key.length < 24) return "the API key must be at least 24 characters long";
  if (key.length > 512) return "the API key must be at most 512 characters long";
  if (!/^[\x21-\x7e]+$/.test(key)) return "the API key must be printable ASCII without spaces";
  if (key.split(".").length === 3) return "the API key must not look like a JWT (no two dots)";
  return undefined;
}
