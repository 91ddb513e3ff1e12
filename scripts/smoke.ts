// The smoke check any operator can point at a deployed stack (see README, "Smoke check"):
//   scripts/smoke --url https://chat.example.com/ [--ca ca.pem] [--admin-key-file FILE]
// The admin API key comes from --admin-key-file or $CHATAPI_ADMIN_API_KEY (never printed).
import { readFileSync } from "node:fs";
import { parseCommandLine, usageError } from "./lib/cli-args";
import { runSmoke } from "./lib/smoke";

const usage = `usage: scripts/smoke --url URL [--ca FILE] [--admin-key-file FILE] [--api-prefix /api/v1]
  --url             the stack's HTTPS URL (its load balancer), e.g. https://localhost:8443/
  --ca              PEM CA certificate to verify the server with (default: the system's CAs)
  --admin-key-file  file holding the admin API key (or set CHATAPI_ADMIN_API_KEY)
  --api-prefix      REST prefix (default /api/v1)`;

const { values } = parseCommandLine("smoke", usage, {
  options: {
    url: { type: "string" },
    ca: { type: "string" },
    "admin-key-file": { type: "string" },
    "api-prefix": { type: "string", default: "/api/v1" },
    help: { type: "boolean", short: "h" },
  },
});
if (values.help) {
  console.log(usage);
  process.exit(0);
}

function fail(message: string, code = 1): never {
  console.error(`smoke: FAILED: ${message}`);
  process.exit(code);
}

if (!values.url) usageError("smoke", "--url is required", usage);
const readFile = (what: string, path: string) => {
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    return fail(`cannot read ${what} ${path} (${(error as NodeJS.ErrnoException).code})`, 2);
  }
};
const adminApiKey = values["admin-key-file"]
  ? readFile("--admin-key-file", values["admin-key-file"]).trim()
  : process.env.CHATAPI_ADMIN_API_KEY?.trim();
if (!adminApiKey) fail("no admin API key: pass --admin-key-file FILE or set CHATAPI_ADMIN_API_KEY", 2);

console.log(
  `smoke: ${values.url}${values.ca ? ` (TLS verified against ${values.ca})` : " (TLS verified against the system CAs)"}`,
);
const started = Date.now();
runSmoke(
  {
    url: values.url,
    apiPrefix: values["api-prefix"],
    adminApiKey,
    ...(values.ca ? { ca: readFile("--ca", values.ca) } : {}),
  },
  (line) => console.log(`  ${line}`),
)
  .then((result) => {
    console.log(
      `smoke: passed (${result.checks} checks in ${((Date.now() - started) / 1000).toFixed(1)} s; WebSocket clients on ${result.instances.join(" and ")})`,
    );
    process.exit(0);
  })
  .catch((error: unknown) => fail((error as Error).message));
