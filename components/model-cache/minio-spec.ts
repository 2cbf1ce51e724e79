/**
 * The local cloud's in-cluster model store, rendered by this package (no Helm chart: a chart creates MinIO's
 * bucket, users and policies in post-install hooks, which `helm.v4.Chart` never runs):
 * - a single-replica MinIO Deployment on a PersistentVolumeClaim, its `minio` Service — so every pod reaches it
 *   at `http://minio.autopilot-cache.svc:9000` — and a NetworkPolicy admitting only endpoint pods and the setup Job;
 * - `minio-setup`, an ordinary Job (Pulumi waits for it to complete) that creates the versioned bucket and one
 *   read-only user per endpoint with a policy on that endpoint's prefix. It is idempotent; a changed endpoint list
 *   changes its pod template, so Pulumi replaces the Job and it runs again.
 * Every pod is restricted (platform UID, read-only root, no capabilities). Pure builders.
 */
import { imageRef } from "../images.ts";
import {
  burstableResources, restrictedContainerSecurity, restrictedNamespaceLabels, restrictedPodSecurity,
} from "../k8s/pod-security.ts";
import { type KubeObject, PLATFORM } from "../types.ts";
import { minioReadPrefixPolicy, minioWritePrefixPolicy } from "./access-policy.ts";

export const MINIO_NAME = "minio";
export const MINIO_PORT = 9000;
/** URL every pod uses. */
export const MINIO_URL = `http://${MINIO_NAME}.${PLATFORM.cacheNamespace}.svc:${MINIO_PORT}`;
export const MINIO_ROOT_SECRET = "minio-root";
/** NodePort through which `pulumi up` on the host publishes models into the store (kind maps it to the host:
 * `extraPortMappings: [{ containerPort: 30900, hostPort: 30900 }]`). */
export const MINIO_PUBLISH_NODE_PORT = 30900;
export const MINIO_USERS_SECRET = "minio-users";
/** Labels of the MinIO server pods (endpoint NetworkPolicies select them). */
export const MINIO_POD_LABELS = { app: MINIO_NAME, [PLATFORM.labelPartOf]: PLATFORM.partOf } as const;
const SETUP_LABELS = { app: "minio-setup", [PLATFORM.labelPartOf]: PLATFORM.partOf } as const;

/** MinIO user of an endpoint. */
export function minioUser(endpoint: string): string {
  return `ep-${endpoint}`;
}

/** MinIO user of the gateway's payload-log writer (endpoint users are `ep-<name>`, so no clash). */
export const MINIO_PAYLOAD_WRITER = "gateway-payload-writer";
/** Key of the writer's secret in the users Secret (a leading dot: no endpoint name can take it). */
export const MINIO_PAYLOAD_WRITER_KEY = ".payload-writer";
/** The payload-log writer of the in-cluster store: its key prefix and the pods that may reach MinIO to write. */
export interface MinioPayloadWriter {
  readonly prefix: string;
  readonly namespace: string;
  readonly podLabels: Readonly<Record<string, string>>;
}

/** Policy name of an endpoint. */
export function minioPolicyName(endpoint: string): string {
  return `read-${endpoint}`;
}

/** The IAM-style policy document MinIO stores for an endpoint (read `<endpoint>/` only). */
export function minioPolicyDocument(bucket: string, endpoint: string): string {
  const statements = minioReadPrefixPolicy(bucket, `${endpoint}/`).map((s) => ({
    Effect: "Allow", Action: s.actions, Resource: s.resources,
    ...(s.condition !== undefined ? { Condition: s.condition } : {}),
  }));
  return JSON.stringify({ Version: "2012-10-17", Statement: statements });
}

/** The policy document of the payload-log writer (`s3:PutObject` under `prefix` only). */
export function minioWriterPolicyDocument(bucket: string, prefix: string): string {
  const statements = minioWritePrefixPolicy(bucket, prefix).map((s) => ({ Effect: "Allow", Action: s.actions, Resource: s.resources }));
  return JSON.stringify({ Version: "2012-10-17", Statement: statements });
}

/** Setup-script lines creating a policy from `doc`, a user whose secret is the file `secretFile`, and attaching it. */
function userLines(user: string, policy: string, doc: string, secretFile: string): string[] {
  return [
    `printf '%s' '${doc}' > "/tmp/${policy}.json"`,
    `mc admin policy create store "${policy}" "/tmp/${policy}.json" >/dev/null || fail "cannot create policy ${policy}"`,
    `secret=""; IFS= read -r secret < "/etc/minio-users/${secretFile}" || [ -n "$secret" ] || fail "no secret key for ${user}"`,
    `mc admin user add store "${user}" "$secret" >/dev/null || fail "cannot add user ${user}"`,
    // Re-attaching an attached policy is "already in effect" on older servers; anything else is an error.
    `out="$(mc admin policy attach store "${policy}" --user "${user}" 2>&1)" || case "$out" in *"already in effect"*) ;; *) fail "cannot attach ${policy} to ${user}: $out" ;; esac`,
  ];
}

/**
 * Script of the setup Job (runs in the mc image: sh, mc and coreutils). Secrets come from the pod: root
 * credentials as env, each endpoint user's secret key as a file under /etc/minio-users.
 */
export function minioSetupScript(bucket: string, endpoints: readonly string[], payloadPrefix?: string): string {
  const lines = [
    "set -eu",
    'fail() { echo "minio-setup: $*" >&2; exit 1; }',
    `mc alias set store "${MINIO_URL}" "$MINIO_ROOT_USER" "$MINIO_ROOT_PASSWORD" >/dev/null`,
    // The server may still be starting (the Job can start before MinIO answers); wait up to 5 minutes.
    'i=0; until mc ready store >/dev/null 2>&1; do i=$((i + 1)); [ "$i" -lt 150 ] || fail "MinIO at ' + MINIO_URL + ' is not ready after 5 minutes"; sleep 2; done',
    `mc mb --ignore-existing --with-versioning "store/${bucket}" || fail "cannot create bucket ${bucket}"`,
    `mc version enable "store/${bucket}" >/dev/null || fail "cannot enable versioning on ${bucket}"`,
  ];
  for (const e of endpoints) lines.push(...userLines(minioUser(e), minioPolicyName(e), minioPolicyDocument(bucket, e), e));
  if (payloadPrefix !== undefined) {
    lines.push(...userLines(MINIO_PAYLOAD_WRITER, "write-payload-logs", minioWriterPolicyDocument(bucket, payloadPrefix), MINIO_PAYLOAD_WRITER_KEY));
  }
  lines.push(`echo "minio-setup: bucket ${bucket} and ${endpoints.length} read-only endpoint users${payloadPrefix !== undefined ? ` and the payload-log writer` : ""} ready"`);
  return lines.join("\n");
}

/** The objects of the in-cluster store. `secrets` are the stringData of the root and users Secrets. */
export function buildMinioObjects(
  bucket: string,
  endpoints: readonly string[],
  secrets: { root: Record<string, unknown>; users: Record<string, unknown> },
  opts: { storageGiB?: number; digestOverrides?: Readonly<Record<string, string>>; publishNodePort?: number; payloadWriter?: MinioPayloadWriter } = {},
): KubeObject[] {
  const ns = PLATFORM.cacheNamespace;
  const meta = (name: string, labels: Record<string, string> = { [PLATFORM.labelPartOf]: PLATFORM.partOf }) => ({ name, namespace: ns, labels });
  const rootEnv = [
    { name: "MINIO_ROOT_USER", valueFrom: { secretKeyRef: { name: MINIO_ROOT_SECRET, key: "rootUser" } } },
    { name: "MINIO_ROOT_PASSWORD", valueFrom: { secretKeyRef: { name: MINIO_ROOT_SECRET, key: "rootPassword" } } },
  ];
  const server: KubeObject = {
    name: "minio",
    image: imageRef("minio", opts.digestOverrides ?? {}),
    args: ["server", "/data", "--address", `:${MINIO_PORT}`, "--console-address", ":9001", "--certs-dir", "/tmp/certs"],
    env: [...rootEnv, { name: "HOME", value: "/tmp" }, { name: "MINIO_BROWSER", value: "off" }],
    ports: [{ name: "s3", containerPort: MINIO_PORT, protocol: "TCP" }],
    readinessProbe: { httpGet: { path: "/minio/health/ready", port: "s3" }, periodSeconds: 5, failureThreshold: 3 },
    livenessProbe: { httpGet: { path: "/minio/health/live", port: "s3" }, periodSeconds: 15, failureThreshold: 4 },
    resources: burstableResources("100m", "256Mi", "1", "1Gi"),
    securityContext: restrictedContainerSecurity(true),
    volumeMounts: [{ name: "data", mountPath: "/data" }, { name: "tmp", mountPath: "/tmp" }],
  };
  const setup: KubeObject = {
    name: "setup",
    image: imageRef("minioClient", opts.digestOverrides ?? {}),
    command: ["/bin/sh", "-c"], args: [minioSetupScript(bucket, endpoints, opts.payloadWriter?.prefix)],
    env: [...rootEnv, { name: "HOME", value: "/tmp" }],
    resources: burstableResources("50m", "64Mi", "500m", "256Mi"),
    securityContext: restrictedContainerSecurity(true),
    terminationMessagePolicy: "FallbackToLogsOnError",
    volumeMounts: [{ name: "tmp", mountPath: "/tmp" }, { name: "users", mountPath: "/etc/minio-users", readOnly: true }],
  };
  return [
    { apiVersion: "v1", kind: "Namespace", metadata: { name: ns, labels: restrictedNamespaceLabels() } },
    { apiVersion: "v1", kind: "Secret", type: "Opaque", metadata: meta(MINIO_ROOT_SECRET), stringData: secrets.root },
    { apiVersion: "v1", kind: "Secret", type: "Opaque", metadata: meta(MINIO_USERS_SECRET), stringData: secrets.users },
    {
      apiVersion: "v1", kind: "PersistentVolumeClaim", metadata: meta("minio-data"),
      spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: `${opts.storageGiB ?? 20}Gi` } } },
    },
    {
      apiVersion: "apps/v1", kind: "Deployment", metadata: meta(MINIO_NAME, { ...MINIO_POD_LABELS }),
      spec: {
        replicas: 1, strategy: { type: "Recreate" }, selector: { matchLabels: { ...MINIO_POD_LABELS } },
        template: {
          metadata: { labels: { ...MINIO_POD_LABELS } },
          spec: {
            automountServiceAccountToken: false, securityContext: restrictedPodSecurity(), containers: [server],
            volumes: [{ name: "data", persistentVolumeClaim: { claimName: "minio-data" } }, { name: "tmp", emptyDir: { sizeLimit: "256Mi" } }],
          },
        },
      },
    },
    {
      apiVersion: "v1", kind: "Service", metadata: meta(MINIO_NAME),
      spec: { type: "ClusterIP", selector: { ...MINIO_POD_LABELS }, ports: [{ name: "s3", port: MINIO_PORT, targetPort: "s3", protocol: "TCP" }] },
    },
    {
      apiVersion: "networking.k8s.io/v1", kind: "NetworkPolicy", metadata: meta("minio-ingress"),
      spec: {
        podSelector: { matchLabels: { ...MINIO_POD_LABELS } }, policyTypes: ["Ingress"],
        ingress: [{
          from: [
            { namespaceSelector: { matchExpressions: [{ key: PLATFORM.labelEndpoint, operator: "Exists" }] }, podSelector: { matchExpressions: [{ key: PLATFORM.labelEndpoint, operator: "Exists" }] } },
            { podSelector: { matchLabels: { ...SETUP_LABELS } } },
            ...(opts.payloadWriter !== undefined
              ? [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": opts.payloadWriter.namespace } }, podSelector: { matchLabels: { ...opts.payloadWriter.podLabels } } }]
              : []),
          ],
          ports: [{ protocol: "TCP", port: MINIO_PORT }],
        },
        // The model publisher (pulumi up / autopilot models push on the host) through the NodePort; it signs with the
        // root credentials, endpoints with their read-only users.
        ...(opts.publishNodePort !== undefined ? [{ from: [{ ipBlock: { cidr: "0.0.0.0/0" } }], ports: [{ protocol: "TCP", port: MINIO_PORT }] }] : [])],
      },
    },
    ...(opts.publishNodePort !== undefined ? [{
      apiVersion: "v1", kind: "Service", metadata: meta(`${MINIO_NAME}-publish`),
      spec: { type: "NodePort", selector: { ...MINIO_POD_LABELS }, ports: [{ name: "s3", port: MINIO_PORT, targetPort: "s3", nodePort: opts.publishNodePort, protocol: "TCP" }] },
    }] : []),
    {
      apiVersion: "batch/v1", kind: "Job", metadata: meta("minio-setup", { ...SETUP_LABELS }),
      spec: {
        backoffLimit: 10, activeDeadlineSeconds: 900,
        template: {
          metadata: { labels: { ...SETUP_LABELS } },
          spec: {
            restartPolicy: "OnFailure", automountServiceAccountToken: false, securityContext: restrictedPodSecurity(), containers: [setup],
            volumes: [{ name: "tmp", emptyDir: { sizeLimit: "16Mi" } }, { name: "users", secret: { secretName: MINIO_USERS_SECRET } }],
          },
        },
      },
    },
  ];
}
