// The docker0 bridge's address: containers on any non-internal bridge reach the host there (a
// private SMTP sink or S3 of a test listens on it).
import { run } from "./exec";

export async function dockerBridgeAddress(): Promise<string> {
  const out = await run("ip", ["-4", "-o", "addr", "show", "docker0"], { reject: false });
  const address = /inet (\d+\.\d+\.\d+\.\d+)\//.exec(out.stdout)?.[1];
  if (!address) throw new Error(`no IPv4 address on docker0 (is dockerd running?): ${out.all}`);
  return address;
}
