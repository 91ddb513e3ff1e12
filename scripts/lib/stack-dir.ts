// Where a stack deployed without Pulumi keeps its rendered compose file, secrets and mounted
// files: outside the checkout, per machine (never in git).
import { homedir } from "node:os";
import { join } from "node:path";

export const cacheDir = () => process.env.CHATAPI_CACHE ?? join(homedir(), ".cache", "chatapi");

export const stackDir = (stack: string) => join(cacheDir(), "stacks", stack);
