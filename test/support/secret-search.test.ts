import { describe, expect, it } from "vitest";
import { base64Fragments, leakedSecrets, secretNeedles } from "./secret-search";

describe("secret search", () => {
  const secret = "be413973f49a899b8337d173fa57ee968e2e3c48";

  it("finds a value base64-encoded inside a longer string at every alignment", () => {
    for (const prefix of ["", "x", "xy", "postgresql://chatapi:"]) {
      const encoded = Buffer.from(`${prefix}${secret}@postgres:5432/chatapi`).toString("base64");
      expect(leakedSecrets(`data: ${encoded}`, { pw: secret }), prefix).toEqual([
        "pw (as an encoded or partial copy)",
      ]);
    }
  });

  it("finds plain and JSON-escaped PEM material, and a single body line of it", () => {
    const label = ["PRIVATE", "KEY"].join(" "); // a fake key, assembled so no key header sits in git
    const pem = `-----BEGIN ${label}-----\n${"A".repeat(20)}${"b".repeat(44)}\nQUJD\n-----END ${label}-----\n`;
    expect(leakedSecrets(JSON.stringify({ key: pem }), { key: pem })).toHaveLength(1);
    expect(leakedSecrets(`...${"A".repeat(20)}${"b".repeat(44)}...`, { key: pem })).toHaveLength(1);
  });

  it("reports nothing for text without the value, and never uses short needles", () => {
    expect(leakedSecrets("ciphertext: v1:abc", { pw: secret })).toEqual([]);
    expect(secretNeedles("short").every((n) => n.length >= 12)).toBe(true);
    expect(base64Fragments(secret)).toHaveLength(3);
  });
});
