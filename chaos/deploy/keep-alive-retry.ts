// What a browser does when a server closes a kept-alive connection just as a request goes out on
// it: send the request again, once, on a new connection. nginx's old workers close their idle
// keep-alive connections the moment a reload starts; a request already on the wire to such a
// connection was never read by nginx (it was idle), so the retry cannot make a second message.
// (Were that ever wrong, the load's "stored twice" count would show it.) Only a failure before
// any response (fetch rejected with undici's "other side closed") is retried; everything else
// is returned as it was.

/** undici's error code for a connection the server closed. */
const CLOSED_BY_SERVER = "UND_ERR_SOCKET";

export function closedBeforeResponse(error: unknown): boolean {
  const cause = (error as { cause?: { code?: string } }).cause;
  return cause?.code === CLOSED_BY_SERVER;
}

/** `fetchImpl`, retried once when the server closed the connection before any response; `onRetry` hears each. */
export function withKeepAliveRetry(fetchImpl: typeof fetch, onRetry: (error: unknown) => void): typeof fetch {
  return (async (input: Parameters<typeof fetch>[0], init?: RequestInit) => {
    try {
      return await fetchImpl(input, init);
    } catch (error) {
      if (!closedBeforeResponse(error) || init?.signal?.aborted) throw error;
      onRetry(error);
      return fetchImpl(input, init);
    }
  }) as typeof fetch;
}
