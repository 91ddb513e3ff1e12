// A small REST client and tenant fixtures for the attacks.
export interface Reply<T = unknown> {
  status: number;
  body: T;
  text: string;
  headers: Headers;
}

export interface CallOptions {
  apiKey?: string;
  token?: string;
  body?: unknown;
  rawBody?: string | Uint8Array;
  headers?: Record<string, string>;
}

export async function call<T = unknown>(
  base: string,
  method: string,
  path: string,
  options: CallOptions = {},
): Promise<Reply<T>> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.apiKey) headers["x-api-key"] = options.apiKey;
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let body: string | Uint8Array | undefined = options.rawBody;
  if (body === undefined && options.body !== undefined) body = JSON.stringify(options.body);
  if (body !== undefined && !Object.keys(headers).some((h) => h.toLowerCase() === "content-type"))
    headers["content-type"] = "application/json";
  const response = await fetch(`${base}${path}`, {
    method,
    headers,
    body,
    signal: AbortSignal.timeout(30_000),
  });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON: keep the text
  }
  return { status: response.status, body: parsed as T, text, headers: response.headers };
}

export const API = "/api/v1";

export interface TenantUser {
  id: string;
  token: string;
  refresh: string;
}

export interface Tenant {
  clientId: string;
  apiKey: string;
  newUser(externalId: string): Promise<TenantUser>;
}

function expect2xx(what: string, reply: Reply): void {
  if (reply.status >= 300) throw new Error(`${what}: ${reply.status} ${reply.text}`);
}

/** A client (made with the admin key) that can create users and get their tokens. */
export async function createTenant(base: string, adminKey: string, label: string): Promise<Tenant> {
  const client = await call<{ id: string; api_key: string }>(base, "POST", `${API}/clients`, {
    apiKey: adminKey,
    body: { name: `tenant ${label}`, email: `${label}-${Math.random().toString(36).slice(2)}@example.com` },
  });
  expect2xx("creating a client", client);
  const apiKey = client.body.api_key;
  return {
    clientId: client.body.id,
    apiKey,
    newUser: async (externalId) => {
      const user = await call<{ id: string }>(base, "POST", `${API}/users`, {
        apiKey,
        body: { external_id: externalId, display_name: externalId },
      });
      expect2xx("creating a user", user);
      const pair = await call<{ access_token: string; refresh_token: string }>(
        base,
        "POST",
        `${API}/auth/token`,
        {
          apiKey,
          body: { user_id: user.body.id },
        },
      );
      expect2xx("getting tokens", pair);
      return { id: user.body.id, token: pair.body.access_token, refresh: pair.body.refresh_token };
    },
  };
}

/** Counts outcomes by label, printed as "401 × 14, 404 × 3". */
export class Tally {
  private readonly counts = new Map<string, number>();
  add(label: string | number): void {
    this.counts.set(String(label), (this.counts.get(String(label)) ?? 0) + 1);
  }
  get total(): number {
    return [...this.counts.values()].reduce((a, b) => a + b, 0);
  }
  count(label: string | number): number {
    return this.counts.get(String(label)) ?? 0;
  }
  toString(): string {
    return [...this.counts.entries()]
      .sort((a, b) => b[1] - a[1])
      .map(([label, n]) => `${label} × ${n}`)
      .join(", ");
  }
}
