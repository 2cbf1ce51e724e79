/**
 * EKS add-ons that need nodes to run, installed after the node groups: metrics-server (the EKS community add-on),
 * the AWS Load Balancer Controller (the gateway's NLB: IP targets, a TCP idle timeout above the gateway's 15-minute
 * stream timeouts) and the Cluster Autoscaler (node groups scale between their bounds, GPU groups from zero). Each
 * controller gets its own Pod Identity role with the policy of eks-iam.ts. The LB controller's webhook certificate
 * is generated once by the tls provider (the chart would mint a new one at every render: a diff on every up).
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import { pinnedChart } from "../charts/pinned-chart.ts";
import { restrictedContainerSecurity } from "../k8s/pod-security.ts";
import type { Cluster } from "./cluster.ts";
import { servicePrincipal } from "./cluster.ts";
import { clusterAutoscalerPolicy, loadBalancerControllerPolicy } from "./eks-iam.ts";

export const LB_CONTROLLER_RELEASE = "aws-load-balancer-controller";
export const CLUSTER_AUTOSCALER_RELEASE = "cluster-autoscaler";
/** Namespace of the EKS add-on controllers. */
export const EKS_ADDON_NAMESPACE = "kube-system";
/** The NLB's TCP idle timeout: above the gateway's 15-minute client/server timeouts, so a slow LLM stream is never cut
 * by the load balancer first (NLB default: 350 s; range 60–6000). */
export const NLB_IDLE_TIMEOUT_S = 960;

/** Annotations of the gateway Service on EKS: an internet-facing NLB from the LB controller, IP targets. */
export function eksGatewayServiceAnnotations(port: number): Record<string, string> {
  return {
    "service.beta.kubernetes.io/aws-load-balancer-type": "external",
    "service.beta.kubernetes.io/aws-load-balancer-scheme": "internet-facing",
    "service.beta.kubernetes.io/aws-load-balancer-nlb-target-type": "ip",
    // The gateway's TLS front limits connections per client address: it must see the client's, not the NLB's.
    "service.beta.kubernetes.io/aws-load-balancer-target-group-attributes": "preserve_client_ip.enabled=true",
    [`service.beta.kubernetes.io/aws-load-balancer-listener-attributes.TCP-${port}`]: `tcp.idle_timeout.seconds=${NLB_IDLE_TIMEOUT_S}`,
  };
}

const small = { requests: { cpu: "50m", memory: "128Mi" }, limits: { cpu: "500m", memory: "512Mi" } };
const podRestricted = { runAsNonRoot: true, runAsUser: 65534, runAsGroup: 65534, fsGroup: 65534, seccompProfile: { type: "RuntimeDefault" } };

/** Values of the LB controller chart (pure). */
export function lbControllerValues(clusterName: string, region: string, vpcId: string, webhook: { ca: string; cert: string; key: string }): Record<string, unknown> {
  return {
    clusterName, region, vpcId,
    serviceAccount: { create: true, name: LB_CONTROLLER_RELEASE },
    // Services opt in with loadBalancerClass/annotations; a mutating webhook on every Service would make Service
    // creation depend on this controller being up.
    enableServiceMutatorWebhook: false,
    enableShield: false, enableWaf: false, enableWafv2: false,
    webhookTLS: { caCert: webhook.ca, cert: webhook.cert, key: webhook.key },
    resources: small,
    podSecurityContext: podRestricted,
    securityContext: restrictedContainerSecurity(true),
  };
}

/** Values of the Cluster Autoscaler chart (pure). */
export function clusterAutoscalerValues(clusterName: string, region: string): Record<string, unknown> {
  return {
    cloudProvider: "aws", awsRegion: region,
    autoDiscovery: { clusterName },
    rbac: { serviceAccount: { create: true, name: CLUSTER_AUTOSCALER_RELEASE } },
    extraArgs: { "balance-similar-node-groups": true, "skip-nodes-with-system-pods": false, expander: "least-waste", "scale-down-unneeded-time": "10m" },
    resources: small,
    securityContext: podRestricted,
    containerSecurityContext: restrictedContainerSecurity(true),
  };
}

/** A Pod Identity role for an add-on's service account, with an inline policy. */
function addonRole(name: string, cluster: Cluster, serviceAccount: string, policy: pulumi.Input<string>, parent: pulumi.Resource): pulumi.Resource {
  const eks = cluster.eks!;
  const o = { parent, provider: eks.provider };
  const role = new aws.iam.Role(`${name}-role`, { assumeRolePolicy: servicePrincipal("pods.eks.amazonaws.com", ["sts:AssumeRole", "sts:TagSession"]) }, o);
  const inline = new aws.iam.RolePolicy(`${name}-policy`, { role: role.id, policy }, o);
  return new aws.eks.PodIdentityAssociation(`${name}-pod-identity`, { clusterName: eks.cluster.name, namespace: EKS_ADDON_NAMESPACE, serviceAccount, roleArn: role.arn }, { ...o, dependsOn: [inline] });
}

export interface EksAddons {
  /** What Services of type LoadBalancer must wait for (the LB controller). */
  readonly loadBalancer: pulumi.Resource[];
}

/** Installs the add-ons; `nodeGroups` must exist first. */
export function installEksAddons(name: string, cluster: Cluster, region: string, nodeGroups: readonly pulumi.Resource[], metricsServer: boolean, parent: pulumi.Resource): EksAddons {
  const eks = cluster.eks!;
  const k8sOpts = { parent, providers: { kubernetes: cluster.provider }, dependsOn: [...nodeGroups] };
  if (metricsServer) {
    new aws.eks.Addon(`${name}-metrics-server`, { clusterName: eks.cluster.name, addonName: "metrics-server", resolveConflictsOnCreate: "OVERWRITE" }, { parent, provider: eks.provider, dependsOn: [...nodeGroups] });
  }
  // LB controller webhook certificate, signed by its own CA.
  const caKey = new tls.PrivateKey(`${name}-lbc-ca-key`, { algorithm: "ECDSA", ecdsaCurve: "P256" }, { parent });
  const ca = new tls.SelfSignedCert(`${name}-lbc-ca`, {
    privateKeyPem: caKey.privateKeyPem, isCaCertificate: true, validityPeriodHours: 87600,
    subject: { commonName: "aws-load-balancer-controller-ca" }, allowedUses: ["cert_signing", "key_encipherment", "digital_signature"],
  }, { parent });
  const key = new tls.PrivateKey(`${name}-lbc-webhook-key`, { algorithm: "ECDSA", ecdsaCurve: "P256" }, { parent });
  const svc = `aws-load-balancer-webhook-service.${EKS_ADDON_NAMESPACE}`;
  const csr = new tls.CertRequest(`${name}-lbc-webhook-csr`, {
    privateKeyPem: key.privateKeyPem, subject: { commonName: `${svc}.svc` }, dnsNames: [svc, `${svc}.svc`, `${svc}.svc.cluster.local`],
  }, { parent });
  const cert = new tls.LocallySignedCert(`${name}-lbc-webhook-cert`, {
    certRequestPem: csr.certRequestPem, caPrivateKeyPem: caKey.privateKeyPem, caCertPem: ca.certPem, validityPeriodHours: 87600,
    allowedUses: ["key_encipherment", "digital_signature", "server_auth"],
  }, { parent });
  const lbcIdentity = addonRole(`${name}-lbc`, cluster, LB_CONTROLLER_RELEASE, loadBalancerControllerPolicy(), parent);
  const values = pulumi.all([eks.cluster.name, eks.vpcId, ca.certPem, cert.certPem, key.privateKeyPem]).apply(([c, vpc, caPem, certPem, keyPem]) =>
    lbControllerValues(c, region, vpc, { ca: caPem, cert: certPem, key: keyPem }));
  const lbc = pinnedChart(`${name}-aws-load-balancer-controller`, "awsLoadBalancerController", {
    release: LB_CONTROLLER_RELEASE, namespace: EKS_ADDON_NAMESPACE, values,
  }, { ...k8sOpts, dependsOn: [...nodeGroups, lbcIdentity] });
  const caIdentity = addonRole(`${name}-cluster-autoscaler`, cluster, CLUSTER_AUTOSCALER_RELEASE, eks.cluster.name.apply(clusterAutoscalerPolicy), parent);
  pinnedChart(`${name}-cluster-autoscaler`, "clusterAutoscaler", {
    release: CLUSTER_AUTOSCALER_RELEASE, namespace: EKS_ADDON_NAMESPACE,
    values: eks.cluster.name.apply((c) => clusterAutoscalerValues(c, region)),
  }, { ...k8sOpts, dependsOn: [...nodeGroups, caIdentity] });
  return { loadBalancer: [lbc] };
}
