// The notification e-mail: plain text, the first messages of the batch and a count of the rest.

export interface DigestMessage {
  sender: string;
  body: string;
  created_at: Date;
}

export interface DigestInput {
  projectName: string;
  recipientName: string;
  roomName: string;
  /** The first messages (in order); `total` counts all of them. */
  messages: DigestMessage[];
  total: number;
}

const MAX_BODY_CHARS = 500;

export function renderDigest(input: DigestInput): { subject: string; text: string } {
  const { total } = input;
  const noun = total === 1 ? "new message" : "new messages";
  const subject = `${total} ${noun} in ${oneLine(input.roomName)}`;
  const lines = input.messages.map((m) => {
    const body = m.body.length > MAX_BODY_CHARS ? `${m.body.slice(0, MAX_BODY_CHARS)}…` : m.body;
    return `${oneLine(m.sender)} (${m.created_at.toISOString().slice(0, 16).replace("T", " ")} UTC):\n${indent(body)}`;
  });
  const rest = total - input.messages.length;
  const text = [
    `Hello ${oneLine(input.recipientName)},`,
    "",
    `you have ${total} ${noun} in "${oneLine(input.roomName)}" while you were away:`,
    "",
    ...lines.flatMap((line) => [line, ""]),
    ...(rest > 0 ? [`…and ${rest} more.`, ""] : []),
    `— ${input.projectName}`,
    "",
  ].join("\n");
  return { subject, text };
}

const oneLine = (s: string) => s.replace(/[\r\n]+/g, " ").trim();
const indent = (s: string) =>
  s
    .split(/\r?\n/)
    .map((line) => `  ${line}`)
    .join("\n");
