// scripts/cluster's commands (the bash entry scripts/cluster runs this with tsx). See cli.ts.
import { buildAll, buildOwnImages, installDebianPackages } from "./build";
import { USAGE, UsageError, parseCommand } from "./cli";
import { clusterConfig } from "./config";
import { down } from "./down";
import { importImages } from "./images";
import { lockFile, takeLock } from "./lock";
import { ClusterError, needRoot, step, stepEnd } from "./log";
import { status } from "./status";
import { up } from "./up";

async function main(argv: string[]): Promise<void> {
  const command = parseCommand(argv);
  const config = clusterConfig();
  switch (command.name) {
    case "help":
      console.log(USAGE);
      return;
    case "up":
      return up(config);
    case "down":
      return down(config, command.purge);
    case "status":
      process.stdout.write(await status(config));
      return;
    case "import":
      needRoot();
      await takeLock(lockFile(config, "run"));
      step(`importing ${command.images.join(" ")}`);
      await importImages(config, command.images);
      stepEnd();
      return;
    case "build":
      needRoot();
      await takeLock(lockFile(config, "build"));
      await installDebianPackages(config);
      await buildAll(config);
      await buildOwnImages(config);
  }
}

main(process.argv.slice(2)).then(
  () => process.exit(0),
  (error: Error) => {
    // a mistyped command line: one line saying what was wrong, then the usage, exit 2 (as every script)
    if (error instanceof UsageError) {
      process.stderr.write(`cluster: ${error.message}\nusage: ${USAGE}\n`);
      process.exit(2);
    }
    // our own errors and failed commands (whose message names the command and its stderr) need no stack
    const known = error instanceof ClusterError || error instanceof UsageError || error.name === "ExecaError";
    process.stderr.write(`[cluster] error: ${known ? error.message : (error.stack ?? error.message)}\n`);
    process.exit(1);
  },
);
