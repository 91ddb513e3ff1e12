// The fan-out layout over N instances: with 2 it is npm run bench's, socket for socket.
import { describe, expect, it } from "vitest";
import type { ServerProcess } from "../../toolbox/processes";
import type { RunningSystem } from "../systems/types";
import { receiverSpecs, senderSpecs } from "./fanout";

function system(instances: number, rooms: number, members: number): RunningSystem {
  return {
    name: "layout",
    protocol: "chatapi",
    label: "layout",
    instances: Array.from({ length: instances }, (_, i) => ({ base: `http://i${i}` }) as ServerProcess),
    rooms: Array.from({ length: rooms }, (_, r) => ({
      key: `room${r}`,
      members: Array.from({ length: members }, (_, j) => `r${r}m${j}`),
    })),
    helperPids: async () => [],
    stop: async () => undefined,
  };
}

/** "credential@instance" per socket, as a receiver process or the pacer holds them. */
const where = (specs: Array<{ credential: string; base: string }>) =>
  specs.map((s) => `${s.credential}@${s.base.slice("http://".length)}`);

describe("fan-out layout", () => {
  it("2 instances: member j of room r on (r·M + j) mod 2 in process j mod 2, the sender on r mod 2", () => {
    const s = system(2, 3, 3);
    expect(receiverSpecs(s, 3, 2, false).map(where)).toEqual([
      ["r0m0@i0", "r0m2@i0", "r1m0@i1", "r1m2@i1", "r2m0@i0", "r2m2@i0"],
      ["r0m1@i1", "r1m1@i0", "r2m1@i1"],
    ]);
    expect(where(senderSpecs(s))).toEqual(["r0m0@i0", "r1m0@i1", "r2m0@i0"]);
    // The closed loop's members sit on the instance after their sender's.
    expect(where(receiverSpecs(s, 1, 1, true)[0]!)).toEqual(["r0m0@i1", "r1m0@i0", "r2m0@i1"]);
  });

  it("4 instances: every room reaches every instance when M ≥ 4; senders rotate over them", () => {
    const s = system(4, 3, 4);
    const [members] = receiverSpecs(s, 4, 1, false);
    expect(where(members!)).toEqual([
      ...["r0m0@i0", "r0m1@i1", "r0m2@i2", "r0m3@i3"],
      ...["r1m0@i0", "r1m1@i1", "r1m2@i2", "r1m3@i3"],
      ...["r2m0@i0", "r2m1@i1", "r2m2@i2", "r2m3@i3"],
    ]);
    expect(where(senderSpecs(s))).toEqual(["r0m0@i0", "r1m0@i1", "r2m0@i2"]);
  });

  it("1 instance: everybody on it", () => {
    const s = system(1, 2, 2);
    expect(receiverSpecs(s, 2, 2, false).map(where)).toEqual([
      ["r0m0@i0", "r1m0@i0"],
      ["r0m1@i0", "r1m1@i0"],
    ]);
    expect(where(senderSpecs(s))).toEqual(["r0m0@i0", "r1m0@i0"]);
  });
});
