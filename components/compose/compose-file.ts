// The part of the Compose file format the renderer writes: what docker-compose 1.29 (Debian 12)
// runs, which the Compose Specification (docker compose v2) runs too. No top-level `version`
// (optional since 1.27) and no `name` (1.29 does not know it: the project name is given with -p).

export interface ComposeHealthCheck {
  test: string[];
  interval: string;
  timeout: string;
  retries: number;
  start_period: string;
}

export interface ComposeServiceNetwork {
  aliases: string[];
}

/** A file-based secret: docker-compose bind-mounts the file read-only at `target`. */
export interface ComposeServiceSecret {
  source: string;
  target: string;
}

export type ComposeDependencyCondition = "service_healthy" | "service_completed_successfully";

export interface ComposeService {
  container_name: string;
  /** Absent in the host's network namespace (network_mode host). */
  hostname?: string;
  network_mode?: "host";
  image: string;
  entrypoint?: string[];
  command: string[];
  environment: Record<string, string>;
  user: string;
  read_only: boolean;
  cap_drop: string[];
  cap_add?: string[];
  security_opt: string[];
  privileged: false;
  init: boolean;
  tmpfs: string[];
  /** Bytes (docker-compose accepts plain integers). */
  mem_limit: number;
  mem_reservation: number;
  memswap_limit: number;
  cpus: number;
  cpu_shares: number;
  pids_limit: number;
  restart: "unless-stopped" | "on-failure" | "no";
  /** `disable: true` switches the image's HEALTHCHECK off (workloads without a check of their own). */
  healthcheck: ComposeHealthCheck | { disable: true };
  networks?: Record<string, ComposeServiceNetwork>;
  /** "<host address>:<host port>:<container port>/<protocol>" */
  ports?: string[];
  /** "<named volume or ./relative/host/path>:<container path>:<ro|rw>" */
  volumes?: string[];
  secrets?: ComposeServiceSecret[];
  depends_on?: Record<string, { condition: ComposeDependencyCondition }>;
  logging: { driver: string; options: Record<string, string> };
  stop_grace_period: string;
  labels: Record<string, string>;
}

export interface ComposeNetwork {
  name: string;
  driver: "bridge";
  internal: boolean;
  driver_opts?: Record<string, string>;
  labels: Record<string, string>;
}

export type ComposeVolume =
  | { name: string; labels: Record<string, string> }
  /** Created outside compose (by the deploy), which only mounts it. */
  | { name: string; external: true };

export interface ComposeFile {
  services: Record<string, ComposeService>;
  networks: Record<string, ComposeNetwork>;
  volumes?: Record<string, ComposeVolume>;
  secrets?: Record<string, { file: string }>;
  /** Extension field (ignored by docker-compose): what the stack is and where it answers. */
  "x-chatapi": {
    stack: string;
    projectName: string;
    urls: { https: string; websocket: string; health: string };
  };
}
