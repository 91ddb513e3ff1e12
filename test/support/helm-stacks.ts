// Kubernetes stacks the Helm chart is compared with: the shipped prod stack, a variant that
// turns on what prod leaves off (provided TLS, an external PostgreSQL, S3 backups with keys,
// SMTP and Sentry secrets, log files, fixed API replicas, trusted proxies, a ClusterIP Service,
// a StorageClass, a fixed admin client id, a longer client keep-alive, the fan-out on an external
// Redis Cluster with its password), and the offline images with their older nginx.
import { type StackSource, loadStack } from "../../components/helm/stack-parity";
import { repoRoot } from "./paths";
import { makeCertificate } from "./tls-fixture";

export const helmStacks = (): Record<string, StackSource> => {
  const tls = makeCertificate("chat.example.com");
  return {
    prod: { file: "prod" },
    "provided TLS, external PostgreSQL, S3, SMTP, Sentry, log files, fixed replicas, fan-out on a Redis Cluster":
      {
        file: "prod",
        stack: "ext",
        changes: {
          "chatapi:tls": JSON.stringify({ mode: "provided" }),
          "chatapi:postgres": JSON.stringify({ mode: "external" }),
          "chatapi:backup": JSON.stringify({
            s3: { bucket: "chat-backups", region: "eu-west-1", prefix: "ext/", forcePathStyle: true },
            retentionDays: 45,
          }),
          "chatapi:app": JSON.stringify({ logFile: true, logLevel: "WARNING" }),
          "chatapi:api": JSON.stringify({ autoscaling: { enabled: false }, replicas: 4 }),
          "chatapi:nginx": JSON.stringify({
            trustedProxies: ["10.0.0.0/8"],
            httpsPort: 8443,
            keepaliveTimeoutSeconds: 75,
          }),
          "chatapi:kubernetes": JSON.stringify({
            namespace: "chat-ext",
            serviceType: "ClusterIP",
            storageClassName: "fast-ssd",
            prometheusScrape: false,
          }),
          "chatapi:admin": JSON.stringify({ clientId: "6f1c2a9e-3b4d-4c5e-8f70-1a2b3c4d5e6f" }),
          "chatapi:fanoutCluster": JSON.stringify({
            mode: "external",
            nodes: ["redis-cluster-0.redis-cluster:6379", "redis-cluster-1.redis-cluster:6379"],
          }),
        },
        secrets: {
          "chatapi:tlsCertificate": tls.certificate,
          "chatapi:tlsPrivateKey": tls.privateKey,
          "chatapi:databaseUrl": "postgresql://app:pw@db.example.com:5432/chatapi",
          "chatapi:backupS3AccessKeyId": "AKIAEXAMPLE",
          "chatapi:backupS3SecretAccessKey": "secretsecret",
          "chatapi:smtpPassword": "smtp-secret",
          "chatapi:sentryDsn": "https://key@sentry.example.com/1",
          "chatapi:redisClusterPassword": "redis-cluster-secret",
        },
      },
    "offline images (nginx 1.22: no upstream re-resolution, old http2 syntax)": {
      file: "prod",
      stack: "offline",
      changes: {
        "chatapi:images": JSON.stringify({ preset: "offline", app: "chatapi-local/chatapi:1.0.0" }),
        "chatapi:kubernetes": JSON.stringify({ namespace: "chatapi", imagePullPolicy: "Never" }),
      },
    },
  };
};

export const loadHelmStack = (source: StackSource) => loadStack(repoRoot, source);
