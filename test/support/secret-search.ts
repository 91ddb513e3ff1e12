// Finds secret values in text the way a leak would show them: as written, JSON-escaped (a PEM's
// line breaks), and base64-encoded (Kubernetes Secret data) at any byte alignment, also when the
// value sits inside a longer encoded string such as a connection URL.

const MIN_NEEDLE = 12;

/** The base64 characters that only the value's own bytes decide, for each of the 3 alignments. */
export function base64Fragments(value: string): string[] {
  const bytes = Buffer.from(value, "utf8");
  const fragments: string[] = [];
  for (let shift = 0; shift < 3; shift++) {
    const encoded = Buffer.concat([Buffer.alloc(shift), bytes]).toString("base64");
    // Character i covers bits [6i, 6i + 6); the value's bits are [8·shift, 8·(shift + n)).
    const first = Math.ceil((8 * shift) / 6);
    const last = Math.floor((8 * (shift + bytes.length)) / 6) - 1;
    if (last - first + 1 >= MIN_NEEDLE) fragments.push(encoded.slice(first, last + 1));
  }
  return fragments;
}

/** Strings whose presence in a text means the secret leaked. */
export function secretNeedles(value: string): string[] {
  const needles = new Set<string>([value, JSON.stringify(value).slice(1, -1), ...base64Fragments(value)]);
  // PEM material: each long body line alone (a partial copy still leaks the key).
  for (const line of value.split("\n")) if (line.length >= 40 && !line.startsWith("-----")) needles.add(line);
  return [...needles].filter((n) => n.length >= MIN_NEEDLE);
}

/** Names of the secrets (keys of `secrets`) whose value shows up in `text`, with the form found. */
export function leakedSecrets(text: string, secrets: Record<string, string>): string[] {
  const found: string[] = [];
  for (const [name, value] of Object.entries(secrets)) {
    const needle = secretNeedles(value).find((n) => text.includes(n));
    if (needle !== undefined)
      found.push(`${name} (as ${needle === value ? "plain text" : "an encoded or partial copy"})`);
  }
  return found;
}
