// The command line of scripts/cluster (kubectl and kubeconfig are answered by the bash entry
// itself, without starting Node.js). Pure: parseCommand is unit-tested, its errors are one line.
export const USAGE = `scripts/cluster — a real single-node Kubernetes cluster built from Go modules.

  scripts/cluster up                 build what is missing, start everything, wait for Ready + DNS
  scripts/cluster down [--purge]     stop exactly what \`up\` started, clean network/mounts;
                                     --purge also deletes the cluster's state (etcd, volumes, images)
  scripts/cluster status             one line per component
  scripts/cluster kubeconfig         print the admin kubeconfig path
  scripts/cluster kubectl ARGS...    the cluster's kubectl with the admin kubeconfig
  scripts/cluster import IMAGE...    copy Docker images into the cluster's containerd
  scripts/cluster build              only build/cache the binaries and local images

Binaries are built from the Go module proxy into \${CHATAPI_CACHE:-~/.cache/chatapi}/<tool>-<version>/
and never downloaded as binaries. Runtime state lives in <cache>/cluster/.`;

export type Command =
  | { name: "help" }
  | { name: "up" }
  | { name: "down"; purge: boolean }
  | { name: "status" }
  | { name: "build" }
  | { name: "import"; images: string[] };

export class UsageError extends Error {
  override name = "UsageError";
}

const COMMANDS = "up, down [--purge], status, kubeconfig, kubectl ARGS..., import IMAGE..., build";

function noArguments(command: string, rest: string[]): void {
  if (rest.length > 0) throw new UsageError(`${command} takes no arguments (got '${rest.join(" ")}')`);
}

export function parseCommand(argv: string[]): Command {
  const [command = "", ...rest] = argv;
  switch (command) {
    case "":
    case "help":
    case "-h":
    case "--help":
      return { name: "help" };
    case "up":
    case "status":
    case "build":
      noArguments(command, rest);
      return { name: command };
    case "down": {
      const unknown = rest.filter((a) => a !== "--purge");
      if (unknown.length > 0) throw new UsageError(`down takes only --purge, not '${unknown.join(" ")}'`);
      return { name: "down", purge: rest.includes("--purge") };
    }
    case "import": {
      if (rest.length === 0) throw new UsageError("usage: scripts/cluster import DOCKER-IMAGE...");
      const option = rest.find((a) => a.startsWith("-"));
      if (option) throw new UsageError(`import takes Docker image names, not the option '${option}'`);
      return { name: "import", images: rest };
    }
    default:
      throw new UsageError(`unknown command '${command}' (try: ${COMMANDS})`);
  }
}
