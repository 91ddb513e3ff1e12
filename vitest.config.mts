import { defineConfig } from "vitest/config";

// One project per tier, chosen by file name, so each can run alone:
//   npx vitest run --project unit | integration | docker | engine | cluster | helm | chaos
// unit:        pure code and Pulumi runtime mocks; needs nothing running.
// integration: real PostgreSQL, Redis, RabbitMQ, SMTP sink, nginx (scripts/setup starts them).
// docker:      the real Docker engine (images, compose, the local stack).
// engine:      the real Pulumi CLI built from Go modules (scripts/pulumi-toolchain).
// cluster:     a real local Kubernetes cluster (scripts/cluster).
// helm:        the real helm binary.
// chaos:       the short form of npm run chaos: fault scenarios and attacks on private instances.
const tiers = ["integration", "docker", "engine", "cluster", "helm", "chaos"] as const;
const tierFiles = (tier: string) => [`**/*.${tier}.test.ts`];
const ignored = ["**/node_modules/**", "**/dist/**"];

export default defineConfig({
  test: {
    // The default output, then a table of each tier's time (test/support/tier-timing-reporter.ts).
    reporters: ["default", "./test/support/tier-timing-reporter.ts"],
    projects: [
      {
        test: {
          name: "unit",
          include: ["**/*.test.ts"],
          // A hang guard, not a speed target: mocks and child processes are slow on a busy 2-core box.
          testTimeout: 60_000,
          exclude: [...ignored, ...tiers.flatMap(tierFiles)],
        },
      },
      ...tiers.map((tier) => ({
        test: {
          name: tier,
          include: tierFiles(tier),
          exclude: ignored,
          setupFiles: ["test/support/load-services-env.ts"],
          testTimeout: 120_000,
          hookTimeout: 300_000,
        },
      })),
    ],
  },
});
