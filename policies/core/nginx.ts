// nginx configs carried by resources (a Kubernetes ConfigMap's data, a Docker container's
// uploaded files), parsed with nginx-conf into directives with their arguments.
import { parse } from "nginx-conf";
import { DOCKER_CONTAINER } from "./docker";
import { isKind } from "./kubernetes";
import type { Subject } from "./types";
import { dicts, isDict, known, str } from "./values";

export interface Directive {
  name: string;
  args: string[];
  /** Present for blocks (http, server, location, upstream, ...). */
  children?: Directive[];
}

export interface NginxConfig {
  subject: Subject;
  /** Where the text was found, for messages: `data key "nginx.conf"`, `uploaded file /etc/...`. */
  source: string;
  root: Directive[];
}

/** Splits a directive's value into arguments, honouring quotes and backslash escapes. */
export function splitArgs(value: string): string[] {
  const args: string[] = [];
  const pattern = /"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'|(\S+)/g;
  for (const match of value.matchAll(pattern)) {
    const text = match[1] ?? match[2] ?? match[3] ?? "";
    args.push(text.replace(/\\(.)/g, "$1"));
  }
  return args;
}

interface ParsedNode {
  name: string;
  value: string;
  isBlock: boolean;
  children: ParsedNode[] | null;
}

function convert(node: ParsedNode): Directive {
  return {
    name: node.name,
    args: splitArgs(node.value),
    ...(node.isBlock ? { children: (node.children ?? []).map(convert) } : {}),
  };
}

/** Parses nginx config text; undefined when it is not valid nginx syntax. */
export function parseNginx(text: string): Directive[] | undefined {
  let result: Directive[] | undefined;
  parse(text, (error, tree) => {
    if (!error && tree) result = (tree.children ?? []).map((n) => convert(n as unknown as ParsedNode));
  });
  return result;
}

const looksLikeNginx = (path: string, text: string) =>
  /\.conf$/.test(path) && /(^|\n)\s*(http|server|upstream)\s*\{/.test(text);

/** The nginx configs a resource carries (none for most resources). */
export function nginxConfigsOf(subject: Subject): NginxConfig[] {
  const found: { source: string; text: string }[] = [];
  if (isKind(subject, "ConfigMap")) {
    const data = subject.props.data;
    if (isDict(data)) {
      for (const key of Object.keys(data)) {
        const text = str(known(() => data[key]));
        if (text !== undefined && looksLikeNginx(key, text))
          found.push({ source: `data key "${key}"`, text });
      }
    }
  } else if (subject.type === DOCKER_CONTAINER) {
    for (const upload of known(() => dicts(subject.props.uploads)) ?? []) {
      const file = str(upload.file);
      if (!file || !file.endsWith(".conf")) continue;
      const text = str(known(() => upload.content));
      if (text !== undefined && looksLikeNginx(file, text))
        found.push({ source: `uploaded file ${file}`, text });
    }
  }
  return found.flatMap(({ source, text }) => {
    const root = parseNginx(text);
    return root ? [{ subject, source, root }] : [];
  });
}

export const nginxConfigs = (subjects: Subject[]) => subjects.flatMap(nginxConfigsOf);

// --- walking the tree ---

export const blocks = (directives: Directive[] | undefined, name: string) =>
  (directives ?? []).filter((d) => d.name === name && d.children !== undefined);

export const directives = (scope: Directive[] | undefined, name: string) =>
  (scope ?? []).filter((d) => d.name === name && d.children === undefined);

export const first = (scope: Directive[] | undefined, name: string) => directives(scope, name)[0];

/** The http blocks' server blocks. */
export function servers(config: NginxConfig): Directive[] {
  return blocks(config.root, "http").flatMap((http) => blocks(http.children, "server"));
}

export function httpScope(config: NginxConfig): Directive[] {
  return blocks(config.root, "http").flatMap((http) => http.children ?? []);
}

/** Every location in a server, nested ones included. */
export function locations(server: Directive): Directive[] {
  const out: Directive[] = [];
  const walk = (scope: Directive[] | undefined) => {
    for (const location of blocks(scope, "location")) {
      out.push(location);
      walk(location.children);
    }
  };
  walk(server.children);
  return out;
}

export const listensWithTls = (server: Directive) =>
  directives(server.children, "listen").some((listen) => listen.args.includes("ssl")) ||
  directives(server.children, "ssl").some((d) => d.args[0] === "on");

/** nginx time (`86400`, `86400s`, `24h`, `1d`, `500ms`) in seconds. */
export function seconds(value: string): number | undefined {
  const match = /^(\d+)(ms|s|m|h|d|w|M|y)?$/.exec(value);
  if (!match) return undefined;
  const factor: Record<string, number> = {
    ms: 0.001,
    s: 1,
    m: 60,
    h: 3600,
    d: 86400,
    w: 604800,
    M: 2592000,
    y: 31536000,
  };
  return Number(match[1]) * factor[match[2] ?? "s"]!;
}

export const locationLabel = (location: Directive) => `location ${location.args.join(" ")}`;
