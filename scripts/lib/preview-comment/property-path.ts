// Property paths as the Pulumi engine writes them in detailed diffs:
//   spec.template.spec.containers[0].image   metadata.annotations["pulumi.com/autonamed"]
// parsed into keys and indexes, and looked up in a resource's inputs.

export type PathPart = string | number;

/** Splits a Pulumi property path; throws on a malformed one (the engine never writes those). */
export function parsePropertyPath(path: string): PathPart[] {
  const parts: PathPart[] = [];
  let i = 0;
  let name = "";
  const flush = () => {
    if (name) parts.push(name);
    name = "";
  };
  while (i < path.length) {
    const c = path[i]!;
    if (c === ".") {
      flush();
      i++;
    } else if (c === "[") {
      flush();
      const end = path.indexOf("]", i);
      if (end < 0) throw new Error(`unclosed [ in property path ${JSON.stringify(path)}`);
      const inner = path.slice(i + 1, end);
      if (/^\d+$/.test(inner)) {
        parts.push(Number(inner));
        i = end + 1;
      } else if (inner.startsWith('"')) {
        // A quoted key may itself hold "]": read the JSON string, then expect "]".
        const close = findStringEnd(path, i + 1);
        parts.push(JSON.parse(path.slice(i + 1, close + 1)) as string);
        if (path[close + 1] !== "]") throw new Error(`expected ] after key in ${JSON.stringify(path)}`);
        i = close + 2;
      } else if (inner === "*") {
        parts.push("*");
        i = end + 1;
      } else {
        throw new Error(`bad index [${inner}] in property path ${JSON.stringify(path)}`);
      }
    } else {
      name += c;
      i++;
    }
  }
  flush();
  return parts;
}

function findStringEnd(text: string, start: number): number {
  for (let i = start + 1; i < text.length; i++) {
    if (text[i] === "\\") i++;
    else if (text[i] === '"') return i;
  }
  throw new Error(`unclosed string in property path ${JSON.stringify(text)}`);
}

/** The value at a path, or undefined when any step is missing. */
export function valueAt(root: unknown, parts: readonly PathPart[]): unknown {
  let current: unknown = root;
  for (const part of parts) {
    if (current === null || typeof current !== "object") return undefined;
    current = (current as Record<string | number, unknown>)[part];
  }
  return current;
}
