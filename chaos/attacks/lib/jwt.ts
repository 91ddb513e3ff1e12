// Hand-built JWTs for the token attacks: node:crypto only, so a forgery is exactly what it says
// (a JWT library would refuse to produce most of them).
import { createHmac, createSign, generateKeyPairSync, randomBytes } from "node:crypto";

const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString("base64url");

export function decodePart(token: string, index: 0 | 1): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split(".")[index]!, "base64url").toString("utf8")) as Record<
    string,
    unknown
  >;
}

export function hs(
  alg: "HS256" | "HS384" | "HS512",
  header: object,
  payload: object,
  key: string | Buffer,
): string {
  const input = `${b64({ alg, typ: "JWT", ...header })}.${b64(payload)}`;
  const hash = { HS256: "sha256", HS384: "sha384", HS512: "sha512" }[alg];
  return `${input}.${createHmac(hash, key).update(input).digest("base64url")}`;
}

export interface Forgery {
  name: string;
  token: string;
}

/**
 * Forgeries of a genuine access token `genuine` (its claims are reused). `secretKey` is the
 * server's real key: used only where the attack is about claims the signature does not cover
 * (expiry, issuer, audience, type) — a leaked key from another service sharing it, say.
 */
export function forgeries(
  genuine: string,
  secretKey: string,
  otherUserId: string,
  otherClientId: string,
): Forgery[] {
  const header = decodePart(genuine, 0);
  const claims = decodePart(genuine, 1);
  const [h, p, sig] = genuine.split(".") as [string, string, string];
  const now = Math.floor(Date.now() / 1000);
  const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const publicPem = publicKey.export({ type: "spki", format: "pem" }).toString();
  const rs256 = (() => {
    const input = `${b64({ alg: "RS256", typ: "JWT" })}.${b64(claims)}`;
    return `${input}.${createSign("RSA-SHA256").update(input).sign(privateKey).toString("base64url")}`;
  })();
  const unsigned = (alg: string) => `${b64({ alg, typ: "JWT" })}.${b64(claims)}.`;
  const withClaims = (extra: Record<string, unknown>, drop: string[] = []) => {
    const c: Record<string, unknown> = { ...claims, ...extra };
    for (const d of drop) delete c[d];
    return hs("HS256", {}, c, secretKey);
  };
  return [
    { name: "alg none", token: unsigned("none") },
    { name: "alg None (case)", token: unsigned("None") },
    { name: "alg NONE, genuine signature kept", token: `${b64({ alg: "NONE", typ: "JWT" })}.${p}.${sig}` },
    { name: "alg none, no signature part", token: `${b64({ alg: "none" })}.${b64(claims)}` },
    { name: "RS256 signed by an attacker's key", token: rs256 },
    {
      name: "algorithm confusion: HS256 keyed with an RSA public key (PEM)",
      token: hs("HS256", {}, claims, publicPem),
    },
    { name: "HS512 keyed with an RSA public key", token: hs("HS512", {}, claims, publicPem) },
    { name: "wrong key (random 32 bytes)", token: hs("HS256", {}, claims, randomBytes(32)) },
    { name: "wrong key (empty)", token: hs("HS256", {}, claims, "") },
    { name: "expired an hour ago", token: withClaims({ iat: now - 7200, exp: now - 3600 }) },
    { name: "no expiry", token: withClaims({}, ["exp"]) },
    { name: "not valid yet (nbf in an hour)", token: withClaims({ nbf: now + 3600 }) },
    { name: "wrong issuer", token: withClaims({ iss: "evil" }) },
    { name: "no issuer", token: withClaims({}, ["iss"]) },
    { name: "wrong audience", token: withClaims({ aud: "another-service" }) },
    { name: "no audience", token: withClaims({}, ["aud"]) },
    { name: "refresh type instead of access", token: withClaims({ typ: "refresh" }) },
    {
      name: "tampered payload: another tenant's user, genuine signature",
      token: `${h}.${b64({ ...claims, sub: otherUserId, cid: otherClientId })}.${sig}`,
    },
    {
      name: "tampered payload: longer expiry, genuine signature",
      token: `${h}.${b64({ ...claims, exp: now + 86400 * 365 })}.${sig}`,
    },
    {
      name: "tampered header: kid and jku injected",
      token: `${b64({ ...header, kid: "../../dev/null", jku: "http://127.0.0.1:1/keys" })}.${p}.${sig}`,
    },
    { name: "signature truncated", token: `${h}.${p}.${sig.slice(0, -4)}` },
    { name: "signature empty", token: `${h}.${p}.` },
    {
      name: "signature of another token",
      token: `${h}.${p}.${hs("HS256", {}, { sub: "x" }, secretKey).split(".")[2]}`,
    },
    { name: "four parts", token: `${genuine}.${sig}` },
  ];
}
