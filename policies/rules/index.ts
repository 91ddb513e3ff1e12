// Every rule of the pack, in the order reports list them.
import type { AnyRule } from "../core/types";
import { allowedRegistries } from "./allowed-registries";
import { backupHygiene } from "./backup-hygiene";
import { datastoreNetworkIsolation } from "./datastore-network-isolation";
import { datastorePersistentStorage } from "./datastore-persistent-storage";
import { datastorePortsNotExposed } from "./datastore-ports-not-exposed";
import { dockerEngineTls } from "./docker-engine-tls";
import { dockerPidsLimit } from "./docker-pids-limit";
import { dockerRestartPolicy } from "./docker-restart-policy";
import { dropAllCapabilities } from "./drop-all-capabilities";
import { healthProbes } from "./health-probes";
import { hpaConsistent } from "./hpa-consistent";
import { imageTagPinned } from "./image-tag-pinned";
import { lbTls } from "./lb-tls";
import { networkPolicyDefaultDeny } from "./network-policy-default-deny";
import { noHostNamespaces } from "./no-host-namespaces";
import { noHostPaths } from "./no-host-paths";
import { monitoringLoopbackOnly } from "./monitoring-loopback-only";
import { noHostPorts } from "./no-host-ports";
import { noNodePortExternalIps } from "./no-nodeport-external-ips";
import { noPrivilegeEscalation } from "./no-privilege-escalation";
import { noPrivilegedContainers } from "./no-privileged-containers";
import { noRuntimeSockets } from "./no-runtime-sockets";
import { noSecretLiterals } from "./no-secret-literals";
import { pdbSane } from "./pdb-sane";
import { productionMinReplicas } from "./production-min-replicas";
import { readOnlyRootFilesystem } from "./read-only-root-filesystem";
import { readOnlyRootFilesystemDatastores } from "./read-only-root-filesystem-datastores";
import { resourceRequestsLimits } from "./resource-requests-limits";
import { runAsNonRoot } from "./run-as-non-root";
import { seccompRuntimeDefault } from "./seccomp-runtime-default";
import { secretsAsFiles } from "./secrets-as-files";
import { websocketStickyTimeouts } from "./websocket-sticky-timeouts";

export const rules: AnyRule[] = [
  // Container hardening
  noPrivilegedContainers,
  noHostNamespaces,
  noHostPorts,
  noHostPaths,
  noRuntimeSockets,
  noPrivilegeEscalation,
  runAsNonRoot,
  dropAllCapabilities,
  seccompRuntimeDefault,
  readOnlyRootFilesystem,
  readOnlyRootFilesystemDatastores,
  resourceRequestsLimits,
  dockerPidsLimit,
  // Images
  imageTagPinned,
  allowedRegistries,
  // Health and availability
  healthProbes,
  dockerRestartPolicy,
  productionMinReplicas,
  pdbSane,
  hpaConsistent,
  // Secrets
  noSecretLiterals,
  secretsAsFiles,
  // Network exposure and isolation
  noNodePortExternalIps,
  datastorePortsNotExposed,
  monitoringLoopbackOnly,
  networkPolicyDefaultDeny,
  datastoreNetworkIsolation,
  // Load balancer and the engine's endpoint
  lbTls,
  dockerEngineTls,
  websocketStickyTimeouts,
  // Data
  datastorePersistentStorage,
  backupHygiene,
];
