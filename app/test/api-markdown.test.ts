// docs/API.md is the app's OpenAPI document in Markdown (npm run docs:api): current, and covering
// every operation the document lists.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { documentedApiMarkdown } from "../src/http/api-markdown.js";
import { OPERATIONS } from "../src/http/openapi.js";

const written = readFileSync(new URL("../../docs/API.md", import.meta.url), "utf8");

describe("docs/API.md", () => {
  it("is what npm run docs:api writes from the OpenAPI document (run it after an API change)", () => {
    expect(written).toBe(documentedApiMarkdown());
  });

  it("has a section for every operation, with its request fields", () => {
    for (const op of OPERATIONS)
      expect(written).toContain(`### \`${op.method.toUpperCase()} /api/v1${op.path}\``);
    expect(written).toContain("| `external_id` | string | yes | 1..200 characters |");
    expect(written).toContain("| `messages[].seq` | integer | yes |");
  });
});
