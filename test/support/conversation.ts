// A conversation written into a deployed stack and read back, for tests that move data between
// stacks (backup → restore): a client (made with the admin key), two users, a room, messages with
// their seqs. Read back with the client's API key, which lives in the database and so travels
// with a backup (user tokens are signed with the stack's SECRET_KEY and do not).
import { randomUUID } from "node:crypto";
import type { ChatMessage } from "../../toolbox/chat-client";
import type { ResilientSubscriber } from "../../toolbox/resilient-clients";
import type { StackClient } from "../../toolbox/stack-client";

export interface Conversation {
  clientKey: string;
  aliceId: string;
  bobId: string;
  roomId: string;
  /** What was written, in order: seq and body. */
  messages: { seq: number; body: string }[];
}

/** A user's access token, from the client key (POST /auth/token). */
export async function tokenFor(chat: StackClient, clientKey: string, userId: string): Promise<string> {
  const pair = await chat.api<{ access_token: string }>(
    "POST",
    "/auth/token",
    { apiKey: clientKey },
    {
      user_id: userId,
    },
  );
  return pair.access_token;
}

/** Writes `count` messages (Alice and Bob taking turns) into a new room of a new client. */
export async function writeConversation(
  chat: StackClient,
  adminKey: string,
  count: number,
): Promise<Conversation> {
  const tag = randomUUID().slice(0, 8);
  const client = await chat.api<{ api_key: string }>(
    "POST",
    "/clients",
    { apiKey: adminKey },
    {
      name: `backup-${tag}`,
      email: `backup-${tag}@example.com`,
    },
  );
  const user = (name: string) =>
    chat.api<{ id: string }>(
      "POST",
      "/users",
      { apiKey: client.api_key },
      {
        external_id: `${name}-${tag}`,
        display_name: name,
      },
    );
  const alice = await user("alice");
  const bob = await user("bob");
  const tokens = [
    await tokenFor(chat, client.api_key, alice.id),
    await tokenFor(chat, client.api_key, bob.id),
  ];
  const room = await chat.api<{ id: string }>(
    "POST",
    "/rooms",
    { token: tokens[0]! },
    {
      name: `room-${tag}`,
      member_ids: [bob.id],
    },
  );
  const messages: Conversation["messages"] = [];
  for (let i = 0; i < count; i++) {
    const body = `message ${i + 1} of ${count} (${tag}) ${"é€😀".repeat(i % 3)}`;
    const sent = await chat.api<ChatMessage>(
      "POST",
      `/rooms/${room.id}/messages`,
      { token: tokens[i % 2]! },
      {
        body,
        client_msg_id: `${tag}-${i}`,
      },
    );
    messages.push({ seq: sent.seq, body: sent.body });
  }
  return { clientKey: client.api_key, aliceId: alice.id, bobId: bob.id, roomId: room.id, messages };
}

/** Every message of the room, in seq order, as Alice reads it (history pages of 50). */
export async function readConversation(
  chat: StackClient,
  conversation: Conversation,
): Promise<Conversation["messages"]> {
  const token = await tokenFor(chat, conversation.clientKey, conversation.aliceId);
  const out: Conversation["messages"] = [];
  for (let after = 0; ;) {
    const page = await chat.api<{ messages: ChatMessage[] }>(
      "GET",
      `/rooms/${conversation.roomId}/messages?after_seq=${after}&limit=50`,
      { token },
    );
    if (page.messages.length === 0) return out;
    for (const m of page.messages) out.push({ seq: m.seq, body: m.body });
    after = page.messages.at(-1)!.seq;
  }
}

/**
 * Bob writes `body`; the subscriber (opened before something happened to the stack) must get it on
 * the connection it had: no reconnect. Returns the message's seq.
 */
export async function expectStillDelivering(
  chat: StackClient,
  conversation: Conversation,
  subscriber: ResilientSubscriber,
  body: string,
): Promise<number> {
  const bob = await tokenFor(chat, conversation.clientKey, conversation.bobId);
  const sent = await chat.api<{ seq: number }>(
    "POST",
    `/rooms/${conversation.roomId}/messages`,
    { token: bob },
    { body },
  );
  await subscriber.waitForSeq(sent.seq);
  if (subscriber.reconnects !== 0)
    throw new Error(
      `the subscriber's WebSocket was dropped (${subscriber.reconnects} reconnects): ${subscriber.errors.join("; ")}`,
    );
  return sent.seq;
}
