// A throwaway RabbitMQ vhost on the shared broker per test file (rabbitmqctl, as scripts/setup
// runs it), so queues of different tests never meet.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { required, uniqueSuffix } from "./services.js";

const run = promisify(execFile);

export interface TestVhost {
  name: string;
  url: string;
  drop(): Promise<void>;
}

async function rabbitmqctl(...args: string[]): Promise<string> {
  try {
    const { stdout } = await run("rabbitmqctl", ["-q", ...args], { timeout: 60_000 });
    return stdout;
  } catch (error) {
    throw new Error(
      `rabbitmqctl ${args.join(" ")} failed (scripts/setup installs and starts RabbitMQ; run as root): ${(error as Error).message}`,
    );
  }
}

export async function createTestVhost(): Promise<TestVhost> {
  const name = `chatapi_t_${uniqueSuffix()}`;
  const base = new URL(required("CHATAPI_TEST_RABBITMQ_URL"));
  await rabbitmqctl("add_vhost", name);
  await rabbitmqctl("set_permissions", "-p", name, decodeURIComponent(base.username), ".*", ".*", ".*");
  base.pathname = `/${name}`;
  return { name, url: base.toString(), drop: async () => void (await rabbitmqctl("delete_vhost", name)) };
}
