// A small REST client for tests.
export interface Reply<T = Record<string, unknown>> {
  status: number;
  body: T;
  headers: Headers;
}

export interface Auth {
  apiKey?: string;
  token?: string;
}

export async function call<T = Record<string, unknown>>(
  base: string,
  method: string,
  path: string,
  options: Auth & { body?: unknown; rawBody?: string; headers?: Record<string, string> } = {},
): Promise<Reply<T>> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.apiKey) headers["x-api-key"] = options.apiKey;
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let body: string | undefined;
  if (options.rawBody !== undefined) body = options.rawBody;
  else if (options.body !== undefined) body = JSON.stringify(options.body);
  if (body !== undefined && !headers["content-type"]) headers["content-type"] = "application/json";
  const response = await fetch(`${base}${path}`, { method, headers, body });
  const text = await response.text();
  let parsed: unknown = undefined;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = text;
  }
  return { status: response.status, body: parsed as T, headers: response.headers };
}

/** Creates a client (with the admin key), a user and tokens; the usual test fixture. */
export async function setupTenant(base: string, adminKey: string, label: string) {
  const client = await call<{ id: string; api_key: string }>(base, "POST", "/api/v1/clients", {
    apiKey: adminKey,
    body: { name: `tenant ${label}`, email: `${label}-${Math.random().toString(36).slice(2)}@example.com` },
  });
  if (client.status !== 201)
    throw new Error(`creating client: ${client.status} ${JSON.stringify(client.body)}`);
  const newUser = async (externalId: string) => {
    const user = await call<{ id: string }>(base, "POST", "/api/v1/users", {
      apiKey: client.body.api_key,
      body: { external_id: externalId, display_name: externalId },
    });
    const tokens = await call<{ access_token: string; refresh_token: string }>(
      base,
      "POST",
      "/api/v1/auth/token",
      {
        apiKey: client.body.api_key,
        body: { user_id: user.body.id },
      },
    );
    return { id: user.body.id, token: tokens.body.access_token, refresh: tokens.body.refresh_token };
  };
  return { clientId: client.body.id, apiKey: client.body.api_key, newUser };
}
