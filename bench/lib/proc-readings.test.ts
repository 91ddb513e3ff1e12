// The open-file arithmetic the idle scenario sizes its processes with.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { openFileLimit, processesFor, RESERVED_FILES } from "./proc-readings";

const limits = (soft: string) =>
  `Limit                     Soft Limit           Hard Limit           Units     \nMax processes             unlimited            unlimited            processes \nMax open files            ${soft}                20000                files     \n`;

describe("open-file limit", () => {
  it("reads the soft limit, unlimited as no limit, and this process's own", () => {
    expect(openFileLimit(limits("20000"))).toBe(20000);
    expect(openFileLimit(limits("unlimited"))).toBe(Number.MAX_SAFE_INTEGER);
    const own = /^Max open files\s+(\d+)/m.exec(readFileSync("/proc/self/limits", "utf8"))![1];
    expect(openFileLimit()).toBe(Number(own));
  });

  it("names the file when the line is missing", () => {
    expect(() => openFileLimit("Limit Soft Hard\n")).toThrow(/Max open files/);
  });

  it("spreads sockets over enough processes, keeping descriptors in reserve", () => {
    const perProcess = 20000 - RESERVED_FILES;
    expect(processesFor(10000, 20000)).toBe(1);
    expect(processesFor(perProcess, 20000)).toBe(1);
    expect(processesFor(perProcess + 1, 20000)).toBe(2);
    expect(processesFor(50000, 20000)).toBe(3);
    expect(processesFor(50000, 65536)).toBe(1);
  });
});
