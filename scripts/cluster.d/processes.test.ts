import { describe, expect, it } from "vitest";
import { statFields } from "./processes";

describe("statFields", () => {
  it("reads state and start time after a command name that holds spaces and parentheses", () => {
    const rest = Array.from({ length: 40 }, (_, i) => String(i + 4));
    const stat = `123 (kube (odd) name) S 1 ${rest.slice(1).join(" ")}`;
    // fields after the name: state is field 3, start time field 22
    expect(statFields(stat)).toEqual({ state: "S", startTime: "22" });
  });
});
