/**
 * Gateway: HAProxy Deployment — a TLS-terminating HAProxy beside the gateway agent, which runs the routing
 * HAProxy — with a LoadBalancer Service, API-key Secret, NetworkPolicy, PDB and an HPA on CPU (design in
 * gateway-spec.ts). Replicas belong to the HPA (`ignoreChanges: ["spec.replicas"]`).
 */
import type * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { kubeResource } from "../k8s/kube-resource.ts";
import { restrictedNamespaceLabels } from "../k8s/pod-security.ts";
import { type KubeObject, PLATFORM } from "../types.ts";
import { buildGatewayObjects, GATEWAY_NAME, type GatewaySpecArgs } from "./gateway-spec.ts";

export interface GatewayArgs extends GatewaySpecArgs {
  /** The agent's API-key file (apiKeysFile()). */
  readonly apiKeysJson: string;
  /** The agent's RBAC objects (ServiceAccount, ClusterRole, binding) from the controller package. */
  readonly agentRbac: readonly KubeObject[];
  /** PEM certificate and key; when given the component creates the TLS Secret, else it must exist. */
  readonly tls?: { readonly cert: string; readonly key: pulumi.Input<string> };
  /** Public host name, when set (else the load balancer's address). */
  readonly host?: string;
}

export class Gateway extends pulumi.ComponentResource {
  /** https://<host or LB address> */
  readonly url: pulumi.Output<string>;

  constructor(name: string, args: GatewayArgs, opts?: pulumi.ComponentResourceOptions) {
    super("autopilot:gateway:Gateway", name, {}, opts);
    const ns = kubeResource(`${name}-ns`, { apiVersion: "v1", kind: "Namespace", metadata: { name: PLATFORM.gatewayNamespace, labels: restrictedNamespaceLabels() } }, { parent: this });
    let lb: k8s.core.v1.Service | undefined;
    const tlsSecret = args.tls !== undefined
      ? [kubeResource(`${name}-tls-secret`, {
        apiVersion: "v1", kind: "Secret", type: "kubernetes.io/tls",
        metadata: { name: args.tlsSecret, namespace: PLATFORM.gatewayNamespace },
        stringData: { "tls.crt": args.tls.cert, "tls.key": pulumi.secret(args.tls.key) },
      }, { parent: this, dependsOn: [ns] })]
      : [];
    const rbac = args.agentRbac.map((obj) => kubeResource(`${name}-${String(obj.kind).toLowerCase()}`, obj, { parent: this, dependsOn: [ns] }));
    for (const obj of buildGatewayObjects(args, args.apiKeysJson)) {
      const kind = String(obj.kind);
      const objName = (obj.metadata as { name: string }).name;
      const res = kubeResource(`${name}-${kind.toLowerCase()}-${objName}`, obj, {
        parent: this, dependsOn: [ns, ...rbac, ...tlsSecret], ...(kind === "Deployment" ? { ignoreChanges: ["spec.replicas"] } : {}),
      });
      if (kind === "Service" && objName === GATEWAY_NAME) lb = res as k8s.core.v1.Service;
    }
    const address = lb!.status.loadBalancer.ingress.apply((i) => i?.[0]?.hostname ?? i?.[0]?.ip ?? "pending");
    this.url = args.host ? pulumi.output(`https://${args.host}`) : pulumi.interpolate`https://${address}`;
    this.registerOutputs({ url: this.url });
  }
}
