// The ChatAPI web console: plain browser JavaScript against the public API, nothing else.
// Client key (pasted, or the local stack's dev login) -> a user by name -> rooms -> a room's
// history and live messages over the WebSocket, which reconnects with backoff and resumes after
// the last message it has (after_seq), so a stopped API instance loses nothing on screen.
const $ = (id) => document.getElementById(id);
const state = {
  apiPrefix: "/api/v1",
  clientKey: "",
  user: undefined,
  tokens: undefined,
  names: new Map(),
  room: undefined,
  lastSeq: 0,
  shown: new Set(),
  socket: undefined,
  attempt: 0,
};

function logEvent(text, error = false) {
  const item = document.createElement("li");
  item.textContent = `${new Date().toLocaleTimeString()} ${text}`;
  if (error) item.className = "error";
  $("events").prepend(item);
}

function setStatus(text, kind) {
  $("status").textContent = text;
  $("status").className = kind;
}

/** A REST call; throws "status code: message" from the error envelope. */
async function api(method, path, { key, token, body } = {}) {
  const headers = { Accept: "application/json" };
  if (key) headers["X-API-Key"] = key;
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path.startsWith("/console/") ? path : state.apiPrefix + path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = response.status === 204 ? undefined : await response.json().catch(() => undefined);
  if (!response.ok) {
    const error = data?.error;
    throw new Error(`${response.status} ${error?.code ?? ""}: ${error?.message ?? response.statusText}`);
  }
  return data;
}

/** The user with this name (POST /users is idempotent per external_id). */
async function userNamed(name) {
  const user = await api("POST", "/users", {
    key: state.clientKey,
    body: { external_id: name, display_name: name },
  });
  state.names.set(user.id, user.display_name);
  return user;
}

const nameOf = (id) => state.names.get(id) ?? `user ${id.slice(0, 8)}`;

async function useClientKey(key, how) {
  state.clientKey = key;
  $("client-info").textContent = `client key set (${how})`;
  $("user").hidden = false;
  $("user-name").focus();
}

async function signIn(name) {
  state.user = await userNamed(name);
  state.tokens = await api("POST", "/auth/token", { key: state.clientKey, body: { user_id: state.user.id } });
  localStorage.setItem("chatapi-console-user", name);
  $("user-info").textContent = `signed in as ${name} (${state.user.id})`;
  $("rooms").hidden = false;
  logEvent(`signed in as ${name}`);
  connect();
  await loadRooms();
}

async function refreshTokens() {
  state.tokens = await api("POST", "/auth/refresh", { body: { refresh_token: state.tokens.refresh_token } });
  logEvent("access token refreshed");
}

async function loadRooms() {
  const rooms = await api("GET", "/rooms", { token: state.tokens.access_token });
  const list = $("room-list");
  list.replaceChildren();
  for (const room of rooms) {
    const item = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = `${room.name} (${room.member_ids.length} members, ${room.last_seq} messages)`;
    button.dataset.roomId = room.id;
    if (state.room?.id === room.id) button.className = "current";
    button.addEventListener("click", () => openRoom(room).catch((e) => logEvent(e.message, true)));
    item.append(button);
    list.append(item);
  }
  if (rooms.length === 0) list.textContent = "no rooms yet: create one below";
}

async function createRoom(name, memberNames) {
  const members = await Promise.all(memberNames.map((n) => userNamed(n)));
  const room = await api("POST", "/rooms", {
    token: state.tokens.access_token,
    body: { name, member_ids: members.map((m) => m.id) },
  });
  logEvent(`room ${name} created with ${memberNames.join(", ") || "nobody else"}`);
  await loadRooms();
  await openRoom(room);
}

function showMessage(message, pending = false) {
  const list = $("messages");
  const existing = list.querySelector(`[data-client-msg-id="${CSS.escape(message.client_msg_id ?? "")}"]`);
  if (message.seq !== undefined) {
    if (state.shown.has(message.seq)) return;
    state.shown.add(message.seq);
    state.lastSeq = Math.max(state.lastSeq, message.seq);
  }
  const item = existing ?? document.createElement("li");
  item.replaceChildren();
  item.className = pending ? "pending" : "";
  if (message.client_msg_id) item.dataset.clientMsgId = message.client_msg_id;
  if (message.seq !== undefined) item.dataset.seq = String(message.seq);
  const seq = document.createElement("span");
  seq.className = "seq";
  seq.textContent = message.seq === undefined ? "sending… " : `#${message.seq} `;
  const sender = document.createElement("strong");
  sender.textContent = `${nameOf(message.sender_id)}: `;
  const body = document.createElement("span");
  body.className = "body";
  body.textContent = message.body;
  item.append(seq, sender, body);
  if (!existing) {
    // In seq order: a resumed history may bring an older message after a newer live one.
    const after = [...list.children].find(
      (li) => li.dataset.seq && Number(li.dataset.seq) > (message.seq ?? Infinity),
    );
    list.insertBefore(item, after ?? null);
  }
  list.scrollTop = list.scrollHeight;
}

async function openRoom(room) {
  if (state.room && state.socket?.readyState === WebSocket.OPEN)
    state.socket.send(JSON.stringify({ type: "unsubscribe", room_id: state.room.id }));
  state.room = room;
  state.lastSeq = 0;
  state.shown = new Set();
  $("messages").replaceChildren();
  $("room-title").textContent = room.name;
  $("chat").hidden = false;
  // History: the newest 50, oldest first.
  const page = await api("GET", `/rooms/${room.id}/messages?before_seq=${Number.MAX_SAFE_INTEGER}&limit=50`, {
    token: state.tokens.access_token,
  });
  for (const message of page.messages.reverse()) showMessage(message);
  logEvent(`room ${room.name}: ${page.messages.length} messages of history`);
  subscribe();
  await loadRooms();
}

function subscribe() {
  if (!state.room || state.socket?.readyState !== WebSocket.OPEN) return;
  state.socket.send(JSON.stringify({ type: "subscribe", room_id: state.room.id, after_seq: state.lastSeq }));
}

function connect() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(
    `${scheme}://${location.host}/ws?token=${encodeURIComponent(state.tokens.access_token)}`,
  );
  state.socket = socket;
  setStatus("connecting…", "reconnecting");
  socket.addEventListener("message", (event) => {
    const frame = JSON.parse(event.data);
    if (frame.type === "ready") {
      state.attempt = 0;
      setStatus(`connected to ${frame.instance}`, "connected");
      logEvent(`socket connected to ${frame.instance}`);
      subscribe();
    } else if (frame.type === "subscribed") {
      logEvent(`subscribed to ${state.room?.name ?? frame.room_id} after #${state.lastSeq}`);
    } else if (frame.type === "message" || frame.type === "ack") {
      if (frame.message.room_id === state.room?.id) showMessage(frame.message);
    } else if (frame.type === "error") {
      logEvent(`socket error ${frame.code}: ${frame.message}`, true);
    }
  });
  socket.addEventListener("close", (event) => {
    if (state.socket !== socket) return;
    const delay = Math.round(Math.min(500 * 2 ** state.attempt, 8000) * (0.5 + Math.random()));
    state.attempt += 1;
    setStatus(`reconnecting in ${(delay / 1000).toFixed(1)} s (attempt ${state.attempt})`, "reconnecting");
    logEvent(
      `socket closed (${event.code}${event.reason ? ` ${event.reason}` : ""}); reconnecting in ${delay} ms`,
      true,
    );
    setTimeout(async () => {
      try {
        if (event.reason === "token_expired" || event.code === 4001) await refreshTokens();
      } catch (error) {
        logEvent(`token refresh failed: ${error.message}`, true);
      }
      connect();
    }, delay);
  });
}

function send(body) {
  const message = {
    room_id: state.room.id,
    body,
    client_msg_id: crypto.randomUUID(),
    sender_id: state.user.id,
  };
  showMessage(message, true);
  if (state.socket?.readyState === WebSocket.OPEN) {
    state.socket.send(JSON.stringify({ type: "send", ...message, sender_id: undefined }));
    return;
  }
  // No socket right now: REST, with the same client_msg_id (a retry never stores it twice).
  api("POST", `/rooms/${state.room.id}/messages`, {
    token: state.tokens.access_token,
    body: { body, client_msg_id: message.client_msg_id },
  })
    .then(showMessage)
    .catch((e) => logEvent(`send failed: ${e.message}`, true));
}

function handle(form, work) {
  $(form).addEventListener("submit", (event) => {
    event.preventDefault();
    work().catch((error) => logEvent(error.message, true));
  });
}

async function start() {
  const config = await api("GET", "/console/config.json");
  state.apiPrefix = config.apiPrefix;
  $("dev-login").hidden = !config.devLogin;
  $("user-name").value = localStorage.getItem("chatapi-console-user") ?? "";
  $("dev-login").addEventListener("click", () =>
    api("POST", "/console/dev-login")
      .then((dev) => useClientKey(dev.api_key, `dev login, client ${dev.client_id}`))
      .catch((e) => logEvent(e.message, true)),
  );
  handle("key-form", () => useClientKey($("client-key").value.trim(), "pasted"));
  handle("user-form", () => signIn($("user-name").value.trim()));
  handle("room-form", () =>
    createRoom(
      $("room-name").value.trim(),
      $("room-members")
        .value.split(",")
        .map((n) => n.trim())
        .filter(Boolean),
    ),
  );
  handle("send-form", async () => {
    send($("message-body").value);
    $("message-body").value = "";
  });
  $("refresh-rooms").addEventListener("click", () => loadRooms().catch((e) => logEvent(e.message, true)));
}

start().catch((error) => logEvent(`console failed to start: ${error.message}`, true));
