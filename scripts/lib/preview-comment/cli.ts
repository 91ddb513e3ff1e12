// scripts/preview-comment: the Markdown of a pull-request comment from one or more previews.
//   scripts/preview-comment --stack ci --preview ci.json [--events ci.events.jsonl] [--exit-code 255] \
//                           [--stack prod --preview prod.json ...] [--title "..."] [--out comment.md]
// Each --stack starts a group; --preview (pulumi preview --json output) and/or --events (the
// event log of the same preview, which carries the policy results) belong to the last --stack.
import { readFileSync, writeFileSync } from "node:fs";
import type { StackPreview } from "./model";
import { type PreviewSources, parsePreview } from "./parse";
import { remediationFor } from "./remediation";
import { renderComment } from "./render";

const USAGE =
  "usage: scripts/preview-comment --stack NAME (--preview FILE | --events FILE)... [--exit-code N] [--title TEXT] [--out FILE]";

class UsageError extends Error {}

function readInput(option: string, file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (error) {
    throw new UsageError(`${option} ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
}

const OPTIONS = ["--stack", "--preview", "--events", "--exit-code", "--title", "--out"];

export function parseArgs(argv: string[]): { groups: PreviewSources[]; title?: string; out?: string } {
  const groups: PreviewSources[] = [];
  let title: string | undefined;
  let out: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const option = argv[i]!;
    if (option === "-h" || option === "--help") throw new UsageError(USAGE);
    if (!OPTIONS.includes(option)) throw new UsageError(`unknown option ${option}\n${USAGE}`);
    const value = argv[i + 1];
    if (value === undefined || value.startsWith("--"))
      throw new UsageError(`${option} needs a value\n${USAGE}`);
    i++;
    const current = groups[groups.length - 1];
    const needGroup = () => {
      if (!current) throw new UsageError(`${option} must follow a --stack\n${USAGE}`);
      return current;
    };
    switch (option) {
      case "--stack":
        groups.push({ stack: value, remediationFor });
        break;
      case "--preview":
        needGroup().previewJson = readInput(option, value);
        break;
      case "--events":
        needGroup().eventLog = readInput(option, value);
        break;
      case "--exit-code":
        if (!/^\d+$/.test(value))
          throw new UsageError(`--exit-code must be a number, not ${JSON.stringify(value)}`);
        needGroup().exitCode = Number(value);
        break;
      case "--title":
        title = value;
        break;
      case "--out":
        out = value;
        break;
      default:
        throw new UsageError(`unknown option ${option}\n${USAGE}`);
    }
  }
  if (groups.length === 0) throw new UsageError(USAGE);
  for (const g of groups)
    if (g.previewJson === undefined && g.eventLog === undefined)
      throw new UsageError(`stack ${g.stack}: give --preview FILE, --events FILE or both`);
  return { groups, ...(title ? { title } : {}), ...(out ? { out } : {}) };
}

export function main(argv: string[]): number {
  try {
    const { groups, title, out } = parseArgs(argv);
    const previews: StackPreview[] = groups.map(parsePreview);
    const markdown = renderComment(previews, title);
    if (out) writeFileSync(out, markdown);
    else process.stdout.write(markdown);
    return 0;
  } catch (error) {
    process.stderr.write(`preview-comment: ${(error as Error).message}\n`);
    return error instanceof UsageError ? 2 : 1;
  }
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
