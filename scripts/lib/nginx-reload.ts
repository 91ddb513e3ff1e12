// A graceful nginx reload on a Docker stack: SIGHUP to the nginx master (PID 1 of its container).
// nginx re-reads its configuration and re-resolves its upstream names, starts new workers and lets
// the old ones finish what they serve; connections are not cut (unlike `docker restart`). A
// configuration that does not load is refused and the old one keeps running.
import { docker } from "../../toolbox/exec";

export async function reloadNginx(container: string): Promise<void> {
  await docker("kill", "--signal", "HUP", container);
}
