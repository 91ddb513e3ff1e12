// The release switch (./release-switch.ts) as a Pulumi resource. The docker provider has no
// "run a command" or "signal a container" resource, and @pulumi/command's plugin cannot be had
// here, so it is a dynamic provider: it runs in the Node.js language host with the program (no
// plugin to download) and drives the same docker CLI the compose deploy uses, against the
// stack's engine (./engine.ts: DOCKER_HOST = the resolved host, a tcp:// engine's TLS material
// as DOCKER_CERT_PATH; an ssh:// host takes its options from ~/.ssh/config). It depends on the new release's API containers (created with `wait`: healthy),
// and nginx's container depends on it, so the order of a `pulumi up` is: new release created and
// healthy → this resource updated (file written, nginx reloaded) → the old release's containers,
// gone from the program, deleted last (Pulumi's deletes come after every create and update).
import * as pulumi from "@pulumi/pulumi";
import type { DockerEngine } from "./docker-cli";
import { type ReleaseSwitch, switchRelease, writeServersFile } from "./release-switch";

export interface ReleaseSwitchInputs {
  engine: DockerEngine;
  volume: string;
  helperImage: string;
  file: { path: string; content: string };
  nginx: { container: string; config: string };
  /** The release nginx sends traffic to once this resource is created or updated. */
  release: string;
}

type Outputs = ReleaseSwitchInputs & { reloaded: boolean };

const asSwitch = (inputs: ReleaseSwitchInputs): ReleaseSwitch => ({
  volume: inputs.volume,
  helperImage: inputs.helperImage,
  file: inputs.file,
  nginx: inputs.nginx,
});

export const releaseSwitchProvider: pulumi.dynamic.ResourceProvider<ReleaseSwitchInputs, Outputs> = {
  async create(inputs) {
    const { reloaded } = await switchRelease(inputs.engine, asSwitch(inputs));
    return { id: `${inputs.volume}/${inputs.file.path}`, outs: { ...inputs, reloaded } };
  },
  async diff(_id, olds, news) {
    const changed = (["release", "volume", "helperImage", "file", "nginx", "engine"] as const).filter(
      (key) => JSON.stringify(olds[key]) !== JSON.stringify(news[key]),
    );
    return { changes: changed.length > 0, replaces: [], deleteBeforeReplace: false };
  },
  async update(_id, olds, news) {
    try {
      const { reloaded } = await switchRelease(news.engine, asSwitch(news));
      return { outs: { ...news, reloaded } };
    } catch (error) {
      // nginx still serves the old release: put its file back so a restart reads it too.
      await writeServersFile(olds.engine, asSwitch(olds)).catch(() => undefined);
      throw error;
    }
  },
  async delete() {
    // Nothing to undo: the volume goes with its own resource.
  },
};

export type ReleaseSwitchArgs = { [K in keyof ReleaseSwitchInputs]: pulumi.Input<ReleaseSwitchInputs[K]> };

export class ReleaseSwitchResource extends pulumi.dynamic.Resource {
  declare readonly release: pulumi.Output<string>;
  declare readonly reloaded: pulumi.Output<boolean>;

  constructor(name: string, args: ReleaseSwitchArgs, opts?: pulumi.CustomResourceOptions) {
    super(releaseSwitchProvider, name, { ...args, reloaded: undefined }, opts, "chatapi", "ReleaseSwitch");
  }
}
