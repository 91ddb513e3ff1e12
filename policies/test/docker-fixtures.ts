// Docker resources as the Docker target creates them (container args of
// components/docker/container-args.ts), small enough to break one field at a time.
import type { Subject } from "../core/types";

export const STACK = "chatapi-local";
const IMAGE_ID = `sha256:${"ab".repeat(32)}`;

type Props = Record<string, unknown>;

const labels = (role: string) => [
  { label: "app.kubernetes.io/component", value: role },
  { label: "chatapi.stack", value: "local" },
  { label: "chatapi.role", value: role },
];

const USERS: Record<string, string> = {
  postgres: "999:999",
  redis: "999:999",
  rabbitmq: "999:999",
  nginx: "101:101",
};
const DATA: Record<string, string> = {
  postgres: "/var/lib/postgresql/data",
  redis: "/data",
  rabbitmq: "/var/lib/rabbitmq",
};

export function container(role: string, changes: Props = {}): Subject {
  const name = `${STACK}-${role}`;
  const store = role in DATA;
  const props: Props = {
    name,
    image: IMAGE_ID,
    command: [role === "api" ? "serve" : role],
    envs: store
      ? []
      : ["ENVIRONMENT=development", "DATABASE_URL_FILE=/run/secrets/database_url", "PORT=8000"],
    user: USERS[role] ?? "10001:10001",
    readOnly: true,
    capabilities: { drops: ["ALL"], adds: [] },
    securityOpts: ["no-new-privileges:true"],
    privileged: false,
    tmpfs: { "/tmp": "rw,noexec,nosuid,nodev,size=67108864" },
    memory: 512,
    memoryReservation: 256,
    memorySwap: 512,
    cpus: "1",
    restart: "unless-stopped",
    healthcheck: { tests: ["CMD", "true"], interval: "10s", timeout: "5s", retries: 3, startPeriod: "10s" },
    mustRun: true,
    networksAdvanced: [{ name: store ? `${STACK}-backend` : `${STACK}-frontend`, aliases: [role] }],
    ports: [],
    volumes: [
      ...(store ? [{ volumeName: `${STACK}-${role}-data`, containerPath: DATA[role], readOnly: false }] : []),
      { volumeName: `${name}-run-secrets`, containerPath: "/run/secrets", readOnly: true },
    ],
    labels: labels(role),
    ...changes,
  };
  return { type: "docker:index/container:Container", name, props };
}

/** The never-started container that carries a workload's files into its volumes. */
export function filesContainer(role: string, uploads: { file: string; content: string }[]): Subject {
  const name = `${STACK}-${role}-files`;
  return {
    type: "docker:index/container:Container",
    name,
    props: {
      name,
      image: IMAGE_ID,
      entrypoints: ["/nonexistent"],
      start: false,
      mustRun: false,
      restart: "no",
      networkMode: "none",
      user: USERS[role] ?? "10001:10001",
      uploads: uploads.map((u) => ({ ...u, permissions: "0444" })),
      labels: [
        { label: "chatapi.role", value: "files" },
        { label: "chatapi.files-for", value: `${STACK}-${role}` },
      ],
    },
  };
}

export const network = (name: string, internal: boolean): Subject => ({
  type: "docker:index/network:Network",
  name: `${STACK}-${name}`,
  props: { name: `${STACK}-${name}`, driver: "bridge", internal },
});

export const remoteImage = (ref: string): Subject => ({
  type: "docker:index/remoteImage:RemoteImage",
  name: `${STACK}-image-${ref.split(/[/:@]/)[0]}`,
  props: { name: ref, keepLocally: true },
});

export const builtImage = (name: string, baseImage: string): Subject => ({
  type: "docker:index/image:Image",
  name: `${STACK}-image-app`,
  props: { imageName: name, skipPush: true, build: { context: "app", args: { BASE_IMAGE: baseImage } } },
});
