// Minimal AMQP 0-9-1 client: connects, authenticates (PLAIN), opens a virtual host, closes.
//   node amqp-connect.js HOST PORT USER PASSWORD VHOST
// Exit 0 and "connected" on success; exit 1 with the server's reason otherwise.
"use strict";
const net = require("node:net");

const [host, port, user, pass, vhost] = process.argv.slice(2);
const FRAME_END = 0xce;

const shortstr = (s) => Buffer.concat([Buffer.from([Buffer.byteLength(s)]), Buffer.from(s)]);
const longstr = (s) => {
  const b = Buffer.from(s);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(b.length);
  return Buffer.concat([len, b]);
};
const u16 = (n) => {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
};
const u32 = (n) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
};

function method(classId, methodId, ...args) {
  const payload = Buffer.concat([u16(classId), u16(methodId), ...args]);
  return Buffer.concat([Buffer.from([1]), u16(0), u32(payload.length), payload, Buffer.from([FRAME_END])]);
}

const fail = (msg) => {
  console.error(`amqp: ${msg}`);
  process.exit(1);
};
const sock = net.connect({ host, port: Number(port) }, () =>
  sock.write(Buffer.from("AMQP\x00\x00\x09\x01", "latin1")),
);
sock.setTimeout(20000, () => fail("timed out"));
sock.on("error", (e) => fail(e.message));
sock.on("close", () => fail("connection closed by the server"));

let buf = Buffer.alloc(0);
sock.on("data", (chunk) => {
  buf = Buffer.concat([buf, chunk]);
  while (buf.length >= 7) {
    const size = buf.readUInt32BE(3);
    if (buf.length < 8 + size) return;
    const type = buf[0];
    const payload = buf.subarray(7, 7 + size);
    buf = buf.subarray(8 + size);
    if (type === 1) onMethod(payload.readUInt16BE(0), payload.readUInt16BE(2), payload.subarray(4));
  }
});

function onMethod(cls, mth, args) {
  const id = `${cls}.${mth}`;
  if (id === "10.10") {
    // Connection.Start -> Start-Ok
    sock.write(method(10, 11, u32(0), shortstr("PLAIN"), longstr(`\0${user}\0${pass}`), shortstr("en_US")));
  } else if (id === "10.30") {
    // Connection.Tune -> Tune-Ok, Open
    const channelMax = args.readUInt16BE(0),
      frameMax = args.readUInt32BE(2);
    sock.write(method(10, 31, u16(channelMax), u32(frameMax), u16(0)));
    sock.write(method(10, 40, shortstr(vhost), shortstr(""), Buffer.from([0])));
  } else if (id === "10.41") {
    // Connection.Open-Ok -> Close
    console.log(`connected to ${host}:${port} vhost ${vhost} as ${user}`);
    sock.write(method(10, 50, u16(200), shortstr("bye"), u16(0), u16(0)));
  } else if (id === "10.51") {
    // Close-Ok
    sock.removeAllListeners("close");
    sock.end();
    process.exit(0);
  } else if (id === "10.50") {
    // server Close: refused
    const code = args.readUInt16BE(0);
    fail(`refused: ${code} ${args.subarray(3, 3 + args[2]).toString()}`);
  }
}
