// A section of bench/RESULTS.md written by another measurement than npm run bench (e.g. npm run
// bench:redis-cluster), between its own markers: replaced by that measurement, kept when
// npm run bench rewrites the rest of the file.
import { existsSync, readFileSync, writeFileSync } from "node:fs";

const markers = (name: string) => [`<!-- ${name}:start -->`, `<!-- ${name}:end -->`] as const;

/** The file with the named section replaced (appended when it is not there yet). */
export function replaceSection(path: string, name: string, body: string): void {
  const [start, end] = markers(name);
  const text = existsSync(path) ? readFileSync(path, "utf8") : "";
  const section = `${start}\n${body.trim()}\n${end}`;
  const from = text.indexOf(start);
  const to = text.indexOf(end);
  const next =
    from >= 0 && to > from
      ? text.slice(0, from) + section + text.slice(to + end.length)
      : `${text.trimEnd()}\n\n${section}\n`;
  writeFileSync(path, next);
}

/** Every marked section of the file (with its markers), to append after a rewrite. */
export function keptSections(path: string): string {
  if (!existsSync(path)) return "";
  const found = readFileSync(path, "utf8").match(/<!-- ([a-z0-9-]+):start -->[\s\S]*?<!-- \1:end -->/g);
  return found ? `\n${found.join("\n\n")}\n` : "";
}
