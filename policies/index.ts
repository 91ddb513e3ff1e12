// The ChatAPI policy pack: `pulumi preview --policy-pack policies` (see the README's CI
// section). The rules are in ./rules, one per file; ./pack.ts turns them into policies.
import { PolicyPack } from "@pulumi/policy";
import { toPolicy } from "./pack";
import { rules } from "./rules";

new PolicyPack("chatapi-policies", {
  description: "ChatAPI toolkit: container hardening, images, secrets, network isolation, TLS, backups",
  displayName: "ChatAPI deployment policies",
  provider: "kubernetes, docker",
  policies: rules.map(toPolicy),
});
