// /rooms: rooms, members and messages, for users (access token) who are members.
import { Router, type RequestHandler } from "express";
import { historyPageJson } from "../../domain/messages.js";
import { addMember, createRoom, listRooms, removeMember } from "../../domain/rooms.js";
import { encodeMessage } from "../../ws/encode.js";
import { actorOf, requireUser } from "../auth.js";
import type { AppContext } from "../context.js";
import { addMemberBody, createRoomBody, historyQuery, sendMessageBody } from "../schemas.js";
import { parseBody, parseQuery, pathId } from "../validate.js";

export function roomRoutes(ctx: AppContext, limit: RequestHandler): Router {
  const router = Router();
  const user = requireUser(ctx);

  router.post("/rooms", user, limit, async (req, res) => {
    const { name, member_ids } = parseBody(createRoomBody, req);
    const ids = (member_ids ?? []).map((id) => id.toLowerCase());
    res.status(201).json(await createRoom(ctx.pool, actorOf(req), name, ids));
  });

  router.get("/rooms", user, limit, async (req, res) => {
    res.json(await listRooms(ctx.pool, actorOf(req)));
  });

  router.post("/rooms/:id/members", user, limit, async (req, res) => {
    const roomId = pathId(req, "id", "room");
    const { user_id } = parseBody(addMemberBody, req);
    await addMember(ctx.pool, actorOf(req), roomId, user_id.toLowerCase());
    res.status(204).end();
  });

  router.delete("/rooms/:id/members/:user_id", user, limit, async (req, res) => {
    const roomId = pathId(req, "id", "room");
    const userId = pathId(req, "user_id", "member");
    await removeMember(ctx.pool, actorOf(req), roomId, userId);
    ctx.hub.kick(roomId, userId);
    res.status(204).end();
  });

  router.post("/rooms/:id/messages", user, limit, async (req, res) => {
    const roomId = pathId(req, "id", "room");
    const { body, client_msg_id } = parseBody(sendMessageBody, req);
    const { message, created } = await ctx.track(ctx.writer.send(actorOf(req), roomId, body, client_msg_id));
    const encoded = encodeMessage(message);
    if (created) ctx.metrics.messagesSent.inc();
    // A retry publishes too: its first attempt may have committed and died before publishing.
    // Receivers drop a seq they already have.
    ctx.hub.publish(encoded);
    res
      .status(created ? 201 : 200)
      .type("application/json")
      .send(encoded.json);
  });

  router.get("/rooms/:id/messages", user, limit, async (req, res) => {
    const roomId = pathId(req, "id", "room");
    const q = parseQuery(historyQuery, req);
    const query =
      q.before_seq !== undefined
        ? { beforeSeq: q.before_seq, limit: q.limit }
        : { afterSeq: q.after_seq ?? 0, limit: q.limit };
    const page = await historyPageJson(ctx.pool, actorOf(req), roomId, query);
    res.type("application/json").send(`{"messages":${page}}`);
  });

  return router;
}
