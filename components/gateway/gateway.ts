/**
 * Gateway: HAProxy Deployment — a TLS-terminating HAProxy beside the gateway agent, which runs the routing
 * HAProxy — with a LoadBalancer Service, API-key Secret, NetworkPolicy, PDB and an HPA on CPU (design in
 * gateway-spec.ts). Replicas belong to the HPA (`ignoreChanges: ["spec.replicas"]`).
 *
 * TLS, one of: an existing Secret (e.g. kept by cert-manager with an ACME issuer); a certificate and key from the
 * stack config; or — the default, so every stack comes up — a self-signed certificate generated once by the tls
 * provider for the gateway host and the load balancer's address (renewed by `pulumi up` in its last 30 days; the
 * certificate is the `gatewayCaCertificate` stack output clients trust with `curl --cacert`).
 */
import type * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import { kubeResource } from "../k8s/kube-resource.ts";
import { restrictedNamespaceLabels } from "../k8s/pod-security.ts";
import { type KubeObject, PLATFORM } from "../types.ts";
import { PAYLOAD_LOG_CREDENTIALS_SECRET } from "./gateway-contract.ts";
import { buildGatewayObjects, GATEWAY_NAME, type GatewaySpecArgs } from "./gateway-spec.ts";
import { componentInputs } from "../component-inputs.ts";

/** Name of the TLS Secret the program creates (config certificate or generated). */
export const GATEWAY_TLS_SECRET = "gateway-tls";

export type GatewayTls =
  | { readonly kind: "existing"; readonly secretName: string }
  | { readonly kind: "pem"; readonly cert: string; readonly key: pulumi.Input<string> }
  | { readonly kind: "generated" };

export interface GatewayArgs extends Omit<GatewaySpecArgs, "tlsSecret"> {
  /** The agent's API-key file (apiKeysFile()). */
  readonly apiKeysJson: string;
  /** The agent's RBAC objects (ServiceAccount, ClusterRole, binding) from the controller package. */
  readonly agentRbac: readonly KubeObject[];
  /** Where the certificate comes from. @default { kind: "generated" } */
  readonly tls?: GatewayTls;
  /** Public host name. @default the load balancer's address */
  readonly host?: string;
  /** What the LoadBalancer Service waits for (EKS: the AWS Load Balancer Controller). @default [] */
  readonly loadBalancerDependsOn?: readonly pulumi.Resource[];
  /** Payload logs: the store's static credentials (rendered as `payload-log-credentials`, see `agentEnv`) and what
   * the gateway pods wait for (the writer's identity). @default none */
  readonly payloadLog?: {
    readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: pulumi.Input<string> };
    readonly ready: readonly pulumi.Resource[];
  };
}

/** SANs of the generated certificate: the host, and the load balancer's address as an IP or a DNS name. */
export function generatedCertNames(host: string | undefined, lbAddress: string): { dnsNames: string[]; ipAddresses: string[] } {
  const dnsNames = host !== undefined && host !== "" ? [host] : [];
  const ipAddresses: string[] = [];
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(lbAddress) || lbAddress.includes(":")) ipAddresses.push(lbAddress);
  else if (lbAddress !== "" && lbAddress !== "pending" && !dnsNames.includes(lbAddress)) dnsNames.push(lbAddress);
  if (dnsNames.length === 0) dnsNames.push(`${GATEWAY_NAME}.${PLATFORM.gatewayNamespace}.svc`);
  return { dnsNames, ipAddresses };
}

export class Gateway extends pulumi.ComponentResource {
  /** https://<host or LB address> */
  readonly url: pulumi.Output<string>;
  /** PEM of the generated self-signed certificate ("" when the certificate is brought). */
  readonly caCertificate: pulumi.Output<string>;

  constructor(name: string, args: GatewayArgs, opts?: pulumi.ComponentResourceOptions) {
    super("autopilot:gateway:Gateway", name, componentInputs(args, { secrets: ["tls"], omit: ["payloadLog"] }), opts);
    const ns = kubeResource(`${name}-ns`, { apiVersion: "v1", kind: "Namespace", metadata: { name: PLATFORM.gatewayNamespace, labels: restrictedNamespaceLabels() } }, { parent: this });
    const tlsMode = args.tls ?? { kind: "generated" };
    const secretName = tlsMode.kind === "existing" ? tlsMode.secretName : GATEWAY_TLS_SECRET;
    const rbac = args.agentRbac.map((obj) => kubeResource(`${name}-${String(obj.kind).toLowerCase()}`, obj, { parent: this, dependsOn: [ns] }));
    const objs = buildGatewayObjects({ ...args, tlsSecret: secretName }, args.apiKeysJson);
    const byName = (kind: string, n: string) => objs.find((o) => o.kind === kind && (o.metadata as { name: string }).name === n)!;
    // The Service first: a generated certificate names the load balancer's address.
    const lb = kubeResource(`${name}-service-${GATEWAY_NAME}`, byName("Service", GATEWAY_NAME), {
      parent: this, dependsOn: [ns, ...(args.loadBalancerDependsOn ?? [])],
    }) as k8s.core.v1.Service;
    const address = lb.status.loadBalancer.ingress.apply((i) => i?.[0]?.hostname ?? i?.[0]?.ip ?? "pending");
    const tlsSecret: pulumi.Resource[] = [];
    this.caCertificate = pulumi.output("");
    if (tlsMode.kind !== "existing") {
      let cert: pulumi.Input<string> = tlsMode.kind === "pem" ? tlsMode.cert : "";
      let key: pulumi.Input<string> = tlsMode.kind === "pem" ? tlsMode.key : "";
      if (tlsMode.kind === "generated") {
        const privateKey = new tls.PrivateKey(`${name}-tls-key`, { algorithm: "ECDSA", ecdsaCurve: "P256" }, { parent: this });
        const names = address.apply((a) => generatedCertNames(args.host, a));
        const selfSigned = new tls.SelfSignedCert(`${name}-tls-cert`, {
          privateKeyPem: privateKey.privateKeyPem, subject: { commonName: args.host ?? GATEWAY_NAME, organization: PLATFORM.partOf },
          dnsNames: names.dnsNames, ipAddresses: names.ipAddresses,
          isCaCertificate: true, validityPeriodHours: 8760, earlyRenewalHours: 720,
          allowedUses: ["digital_signature", "key_encipherment", "server_auth", "cert_signing"],
        }, { parent: this });
        cert = selfSigned.certPem;
        key = privateKey.privateKeyPem;
        this.caCertificate = selfSigned.certPem;
      }
      tlsSecret.push(kubeResource(`${name}-tls-secret`, {
        apiVersion: "v1", kind: "Secret", type: "kubernetes.io/tls",
        metadata: { name: GATEWAY_TLS_SECRET, namespace: PLATFORM.gatewayNamespace },
        stringData: { "tls.crt": cert, "tls.key": pulumi.secret(key) },
      }, { parent: this, dependsOn: [ns] }));
    }
    const payload: pulumi.Resource[] = [...(args.payloadLog?.ready ?? [])];
    const creds = args.payloadLog?.credentials;
    if (creds !== undefined) {
      payload.push(kubeResource(`${name}-payload-log-credentials`, {
        apiVersion: "v1", kind: "Secret", type: "Opaque",
        metadata: { name: PAYLOAD_LOG_CREDENTIALS_SECRET, namespace: PLATFORM.gatewayNamespace },
        stringData: { AWS_ACCESS_KEY_ID: creds.accessKeyId, AWS_SECRET_ACCESS_KEY: pulumi.secret(creds.secretAccessKey) },
      }, { parent: this, dependsOn: [ns] }));
    }
    for (const obj of objs) {
      const kind = String(obj.kind);
      const objName = (obj.metadata as { name: string }).name;
      if (kind === "Service" && objName === GATEWAY_NAME) continue;
      kubeResource(`${name}-${kind.toLowerCase()}-${objName}`, obj, {
        parent: this, dependsOn: [ns, ...rbac, ...tlsSecret, ...(kind === "Deployment" ? payload : [])], ...(kind === "Deployment" ? { ignoreChanges: ["spec.replicas"] } : {}),
      });
    }
    this.url = args.host ? pulumi.output(`https://${args.host}`) : pulumi.interpolate`https://${address}`;
    this.registerOutputs({ url: this.url, caCertificate: this.caCertificate });
  }
}
