import { homedir } from "node:os";
import { join, resolve } from "node:path";

/** Tool and credential cache shared by every checkout on this machine (never inside one). */
export const cacheDir = process.env.CHATAPI_CACHE ?? join(homedir(), ".cache", "chatapi");

/** The repository root. */
export const repoRoot = resolve(__dirname, "..", "..");
