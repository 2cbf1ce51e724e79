/**
 * Cluster: EKS (VPC, cluster, Pod Identity agent, network-policy-enforcing VPC CNI), GKE (VPC-native network,
 * Dataplane V2, Workload Identity) or an existing kubeconfig context (local). Node pools are separate
 * (NodePool). Exposes the Kubernetes provider everything else deploys with.
 */
import * as aws from "@pulumi/aws";
import * as gcp from "@pulumi/gcp";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { Cloud } from "../types.ts";
import { EKS_NETWORK, eksKubeconfig, GKE_NETWORK, gkeKubeconfig } from "./kubeconfig.ts";
import { componentInputs } from "../component-inputs.ts";

export interface ClusterArgs {
  /** Where the cluster is: an existing kubeconfig context (`local`), a new EKS (`aws`) or GKE (`gcp`) cluster. */
  readonly cloud: Cloud;
  /** aws/gcp region (ignored on local). */
  readonly region: string;
  /** aws/gcp: Kubernetes minor version, e.g. "1.33" (ignored on local). */
  readonly kubernetesVersion: string;
  /** local: kubeconfig context. @default "" (the current context) */
  readonly kubeContext?: string;
  /** gcp: project id. @default "" */
  readonly gcpProject?: string;
  /** Protect the control plane from deletion (prod). @default false */
  readonly deletionProtection?: boolean;
  /** aws: IAM principals given cluster-admin access entries (the creator always has one). @default [] */
  readonly adminPrincipalArns?: readonly string[];
  /** aws/gcp: CIDRs allowed to reach the public API endpoint. @default [] = any address */
  readonly apiServerAuthorizedCidrs?: readonly string[];
}

/** Google APIs the platform uses on a project; the program enables them first (a fresh project has few enabled). */
export const GCP_APIS = [
  "compute.googleapis.com", "container.googleapis.com", "storage.googleapis.com", "cloudkms.googleapis.com",
  "artifactregistry.googleapis.com", "iam.googleapis.com", "iamcredentials.googleapis.com", "sts.googleapis.com",
] as const;

/** EKS handles NodePool needs. */
export interface EksParts {
  readonly cluster: aws.eks.Cluster;
  readonly nodeRole: aws.iam.Role;
  /** The node role's policy attachments: node groups wait for them (a node without them never joins). */
  readonly nodeRoleReady: readonly pulumi.Resource[];
  /** Add-ons node groups need before their nodes boot (VPC CNI, Pod Identity agent). */
  readonly addons: readonly pulumi.Resource[];
  readonly vpcId: pulumi.Output<string>;
  readonly privateSubnetIds: pulumi.Output<string>[];
  readonly provider: aws.Provider;
}

/** GKE handles NodePool needs. */
export interface GkeParts {
  readonly cluster: gcp.container.Cluster;
  readonly nodeServiceAccount: gcp.serviceaccount.Account;
  /** The enabled project APIs: every GCP resource waits for them. */
  readonly apis: readonly pulumi.Resource[];
  readonly provider: gcp.Provider;
}

export class Cluster extends pulumi.ComponentResource {
  readonly cloud: Cloud;
  /** aws/gcp region ("" on local). */
  readonly region: string;
  /** Provider for every Kubernetes object of the platform. */
  readonly provider: k8s.Provider;
  readonly eks?: EksParts;
  readonly gke?: GkeParts;
  /** Cluster name (local: the context). */
  readonly clusterName: pulumi.Output<string>;
  /** Kubeconfig of the cluster, a secret (aws: `aws eks get-token`, gcp: `gke-gcloud-auth-plugin`); "" on local,
   * where the provider uses a context of the caller's own kubeconfig. */
  readonly kubeconfig: pulumi.Output<string>;

  constructor(name: string, args: ClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("autopilot:cluster:Cluster", name, componentInputs(args), opts);
    this.cloud = args.cloud;
    this.region = args.region;
    if (args.cloud === "aws") {
      this.eks = createEks(name, args, this);
      const c = this.eks.cluster;
      this.clusterName = c.name;
      const kubeconfig = pulumi.all([c.name, c.endpoint, c.certificateAuthority.data]).apply(([n, e, ca]) => eksKubeconfig(n, e, ca, args.region));
      this.kubeconfig = pulumi.secret(kubeconfig);
      this.provider = new k8s.Provider(`${name}-k8s`, { kubeconfig, enableServerSideApply: true }, { parent: this });
    } else if (args.cloud === "gcp") {
      this.gke = createGke(name, args, this);
      const c = this.gke.cluster;
      this.clusterName = c.name;
      const kubeconfig = pulumi.all([c.name, c.endpoint, c.masterAuth.clusterCaCertificate]).apply(([n, e, ca]) => gkeKubeconfig(n, e, ca ?? ""));
      this.kubeconfig = pulumi.secret(kubeconfig);
      this.provider = new k8s.Provider(`${name}-k8s`, { kubeconfig, enableServerSideApply: true }, { parent: this });
    } else {
      this.clusterName = pulumi.output(args.kubeContext || "current-context");
      this.kubeconfig = pulumi.output("");
      this.provider = new k8s.Provider(`${name}-k8s`, {
        ...(args.kubeContext ? { context: args.kubeContext } : {}),
        enableServerSideApply: true,
      }, { parent: this });
    }
    this.registerOutputs({ clusterName: this.clusterName });
  }
}

function createEks(name: string, args: ClusterArgs, parent: pulumi.Resource): EksParts {
  const provider = new aws.Provider(`${name}-aws`, { region: args.region as aws.Region }, { parent });
  const o = { parent, provider };
  const vpc = new aws.ec2.Vpc(`${name}-vpc`, { cidrBlock: EKS_NETWORK.vpcCidr, enableDnsHostnames: true, enableDnsSupport: true, tags: { Name: `${name}-vpc` } }, o);
  const igw = new aws.ec2.InternetGateway(`${name}-igw`, { vpcId: vpc.id }, o);
  const publicRt = new aws.ec2.RouteTable(`${name}-public`, { vpcId: vpc.id, routes: [{ cidrBlock: "0.0.0.0/0", gatewayId: igw.id }] }, o);
  const publicSubnets = EKS_NETWORK.zones.map((z, i) => new aws.ec2.Subnet(`${name}-public-${z}`, {
    vpcId: vpc.id, cidrBlock: EKS_NETWORK.publicCidrs[i]!, availabilityZone: `${args.region}${z}`, mapPublicIpOnLaunch: false,
    tags: { "kubernetes.io/role/elb": "1" },
  }, o));
  publicSubnets.forEach((s, i) => new aws.ec2.RouteTableAssociation(`${name}-public-${EKS_NETWORK.zones[i]}`, { subnetId: s.id, routeTableId: publicRt.id }, o));
  const eip = new aws.ec2.Eip(`${name}-nat`, { domain: "vpc" }, o);
  const nat = new aws.ec2.NatGateway(`${name}-nat`, { allocationId: eip.id, subnetId: publicSubnets[0]!.id }, o);
  const privateRt = new aws.ec2.RouteTable(`${name}-private`, { vpcId: vpc.id, routes: [{ cidrBlock: "0.0.0.0/0", natGatewayId: nat.id }] }, o);
  const privateSubnets = EKS_NETWORK.zones.map((z, i) => new aws.ec2.Subnet(`${name}-private-${z}`, {
    vpcId: vpc.id, cidrBlock: EKS_NETWORK.privateCidrs[i]!, availabilityZone: `${args.region}${z}`,
    tags: { "kubernetes.io/role/internal-elb": "1" },
  }, o));
  privateSubnets.forEach((s, i) => new aws.ec2.RouteTableAssociation(`${name}-private-${EKS_NETWORK.zones[i]}`, { subnetId: s.id, routeTableId: privateRt.id }, o));
  // Model downloads reach S3 through a gateway endpoint: no NAT data charges, no internet path.
  new aws.ec2.VpcEndpoint(`${name}-s3`, { vpcId: vpc.id, serviceName: `com.amazonaws.${args.region}.s3`, vpcEndpointType: "Gateway", routeTableIds: [privateRt.id, publicRt.id] }, o);

  const clusterRole = new aws.iam.Role(`${name}-cluster`, { assumeRolePolicy: servicePrincipal("eks.amazonaws.com", ["sts:AssumeRole", "sts:TagSession"]) }, o);
  const clusterPolicy = new aws.iam.RolePolicyAttachment(`${name}-cluster-policy`, { role: clusterRole.name, policyArn: "arn:aws:iam::aws:policy/AmazonEKSClusterPolicy" }, o);
  const secretsKey = new aws.kms.Key(`${name}-secrets`, { description: `${name} Kubernetes secrets envelope encryption`, enableKeyRotation: true }, o);
  const cluster = new aws.eks.Cluster(`${name}-eks`, {
    roleArn: clusterRole.arn,
    version: args.kubernetesVersion,
    vpcConfig: {
      subnetIds: [...privateSubnets, ...publicSubnets].map((s) => s.id), endpointPrivateAccess: true, endpointPublicAccess: true,
      publicAccessCidrs: (args.apiServerAuthorizedCidrs ?? []).length > 0 ? [...args.apiServerAuthorizedCidrs!] : ["0.0.0.0/0"],
    },
    accessConfig: { authenticationMode: "API", bootstrapClusterCreatorAdminPermissions: true },
    encryptionConfig: { resources: ["secrets"], provider: { keyArn: secretsKey.arn } },
    enabledClusterLogTypes: ["api", "audit", "authenticator"],
    deletionProtection: args.deletionProtection ?? false,
  }, { ...o, dependsOn: [clusterPolicy] });
  // Cluster admins besides the identity that created the cluster (CI's deploy role, the team's admin role).
  for (const [i, arn] of (args.adminPrincipalArns ?? []).entries()) {
    const entry = new aws.eks.AccessEntry(`${name}-admin-${i}`, { clusterName: cluster.name, principalArn: arn, type: "STANDARD" }, o);
    new aws.eks.AccessPolicyAssociation(`${name}-admin-${i}`, {
      clusterName: cluster.name, principalArn: arn, policyArn: "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy", accessScope: { type: "cluster" },
    }, { ...o, dependsOn: [entry] });
  }
  // Pod Identity: per-endpoint roles are associated with (namespace, service account) pairs; no OIDC provider needed.
  const podIdentity = new aws.eks.Addon(`${name}-pod-identity`, { clusterName: cluster.name, addonName: "eks-pod-identity-agent", resolveConflictsOnCreate: "OVERWRITE" }, o);
  // The VPC CNI EKS installed itself is adopted (OVERWRITE: its self-managed config would otherwise conflict) and
  // told to enforce NetworkPolicies.
  const vpcCni = new aws.eks.Addon(`${name}-vpc-cni`, {
    clusterName: cluster.name, addonName: "vpc-cni", resolveConflictsOnCreate: "OVERWRITE", resolveConflictsOnUpdate: "OVERWRITE",
    configurationValues: JSON.stringify({ enableNetworkPolicy: "true" }),
  }, o);

  const nodeRole = new aws.iam.Role(`${name}-node`, { assumeRolePolicy: servicePrincipal("ec2.amazonaws.com", ["sts:AssumeRole"]) }, o);
  const nodeRoleReady = (["worker", "cni", "ecr"] as const).map((suffix) => new aws.iam.RolePolicyAttachment(`${name}-node-${suffix}`, {
    role: nodeRole.name, policyArn: `arn:aws:iam::aws:policy/${{ worker: "AmazonEKSWorkerNodePolicy", cni: "AmazonEKS_CNI_Policy", ecr: "AmazonEC2ContainerRegistryReadOnly" }[suffix]}`,
  }, o));
  return { cluster, nodeRole, nodeRoleReady, addons: [vpcCni, podIdentity], vpcId: vpc.id, privateSubnetIds: privateSubnets.map((s) => s.id), provider };
}

function createGke(name: string, args: ClusterArgs, parent: pulumi.Resource): GkeParts {
  const provider = new gcp.Provider(`${name}-gcp`, { project: args.gcpProject ?? "", region: args.region }, { parent });
  // Enabled first; disabling on destroy would break anything else in the project that uses them.
  const apis = GCP_APIS.map((api) => new gcp.projects.Service(`${name}-api-${api.split(".")[0]}`, { project: args.gcpProject ?? "", service: api, disableOnDestroy: false }, { parent, provider }));
  const o = { parent, provider, dependsOn: apis };
  const network = new gcp.compute.Network(`${name}-vpc`, { autoCreateSubnetworks: false }, o);
  const subnet = new gcp.compute.Subnetwork(`${name}-nodes`, {
    network: network.id, region: args.region, ipCidrRange: GKE_NETWORK.nodesCidr, privateIpGoogleAccess: true,
    secondaryIpRanges: [GKE_NETWORK.podsRange, GKE_NETWORK.servicesRange],
  }, o);
  const router = new gcp.compute.Router(`${name}-router`, { network: network.id, region: args.region }, o);
  new gcp.compute.RouterNat(`${name}-nat`, {
    router: router.name, region: args.region, natIpAllocateOption: "AUTO_ONLY", sourceSubnetworkIpRangesToNat: "ALL_SUBNETWORKS_ALL_IP_RANGES",
  }, o);
  const nodeServiceAccount = new gcp.serviceaccount.Account(`${name}-nodes`, { accountId: `${name}-nodes`.slice(0, 28), displayName: `${name} GKE nodes` }, o);
  for (const role of ["roles/logging.logWriter", "roles/monitoring.metricWriter", "roles/monitoring.viewer", "roles/artifactregistry.reader"]) {
    new gcp.projects.IAMMember(`${name}-nodes-${role.split("/")[1]!.replace(/\./g, "-")}`, {
      project: args.gcpProject ?? "", role, member: pulumi.interpolate`serviceAccount:${nodeServiceAccount.email}`,
    }, o);
  }
  const cluster = new gcp.container.Cluster(`${name}-gke`, {
    location: args.region,
    network: network.id,
    subnetwork: subnet.id,
    networkingMode: "VPC_NATIVE",
    ipAllocationPolicy: { clusterSecondaryRangeName: GKE_NETWORK.podsRange.rangeName, servicesSecondaryRangeName: GKE_NETWORK.servicesRange.rangeName },
    // Dataplane V2 enforces NetworkPolicies.
    datapathProvider: "ADVANCED_DATAPATH",
    removeDefaultNodePool: true,
    initialNodeCount: 1,
    minMasterVersion: args.kubernetesVersion,
    releaseChannel: { channel: "REGULAR" },
    workloadIdentityConfig: { workloadPool: `${args.gcpProject}.svc.id.goog` },
    privateClusterConfig: { enablePrivateNodes: true, enablePrivateEndpoint: false, masterIpv4CidrBlock: GKE_NETWORK.masterCidr },
    enableShieldedNodes: true,
    ...((args.apiServerAuthorizedCidrs ?? []).length > 0
      ? { masterAuthorizedNetworksConfig: { cidrBlocks: args.apiServerAuthorizedCidrs!.map((c) => ({ cidrBlock: c, displayName: c })) } }
      : {}),
    deletionProtection: args.deletionProtection ?? false,
  }, o);
  return { cluster, nodeServiceAccount, apis, provider };
}

/** Trust policy letting an AWS service assume a role. */
export function servicePrincipal(service: string, actions: string[]): string {
  return JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { Service: service }, Action: actions }] });
}
