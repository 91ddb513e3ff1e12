import { describe, expect, it } from "vitest";
import { USAGE, parseCommand } from "./cli";

describe("parseCommand", () => {
  it("reads every command", () => {
    expect(parseCommand(["up"])).toEqual({ name: "up" });
    expect(parseCommand(["down"])).toEqual({ name: "down", purge: false });
    expect(parseCommand(["down", "--purge"])).toEqual({ name: "down", purge: true });
    expect(parseCommand(["status"])).toEqual({ name: "status" });
    expect(parseCommand(["build"])).toEqual({ name: "build" });
    expect(parseCommand(["import", "chatapi-local/chatapi:1.0.1", "nginx"])).toEqual({
      name: "import",
      images: ["chatapi-local/chatapi:1.0.1", "nginx"],
    });
    for (const help of [[], ["help"], ["-h"], ["--help"]])
      expect(parseCommand(help)).toEqual({ name: "help" });
  });

  it("refuses bad input with one line naming what was wrong", () => {
    const cases: [string[], string][] = [
      [
        ["start"],
        "unknown command 'start' (try: up, down [--purge], status, kubeconfig, kubectl ARGS..., import IMAGE..., build)",
      ],
      [["up", "--fast"], "up takes no arguments (got '--fast')"],
      [["status", "-v"], "status takes no arguments (got '-v')"],
      [["down", "--purge", "--force"], "down takes only --purge, not '--force'"],
      [["import"], "usage: scripts/cluster import DOCKER-IMAGE..."],
      [["import", "--all"], "import takes Docker image names, not the option '--all'"],
    ];
    for (const [argv, message] of cases) {
      expect(() => parseCommand(argv)).toThrow(message);
      try {
        parseCommand(argv);
      } catch (error) {
        expect((error as Error).message).not.toContain("\n");
      }
    }
  });

  it("documents every command in the usage text", () => {
    for (const command of [
      "up",
      "down [--purge]",
      "status",
      "kubeconfig",
      "kubectl ARGS...",
      "import IMAGE...",
      "build",
    ])
      expect(USAGE).toContain(`scripts/cluster ${command}`);
  });
});
