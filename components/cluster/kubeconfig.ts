/**
 * Kubeconfig documents for the k8s provider, built from cluster outputs. Both use exec credential plugins, so no
 * long-lived token is stored in state: `aws eks get-token` (EKS) and `gke-gcloud-auth-plugin` (GKE).
 */

/** Kubeconfig (JSON) for an EKS cluster. */
export function eksKubeconfig(clusterName: string, endpoint: string, caData: string, region: string): string {
  return JSON.stringify({
    apiVersion: "v1", kind: "Config", "current-context": clusterName,
    clusters: [{ name: clusterName, cluster: { server: endpoint, "certificate-authority-data": caData } }],
    contexts: [{ name: clusterName, context: { cluster: clusterName, user: clusterName } }],
    users: [{ name: clusterName, user: { exec: {
      apiVersion: "client.authentication.k8s.io/v1beta1", command: "aws",
      args: ["eks", "get-token", "--cluster-name", clusterName, "--region", region, "--output", "json"],
      interactiveMode: "Never",
    } } }],
  });
}

/** Kubeconfig (JSON) for a GKE cluster. */
export function gkeKubeconfig(clusterName: string, endpoint: string, caData: string): string {
  return JSON.stringify({
    apiVersion: "v1", kind: "Config", "current-context": clusterName,
    clusters: [{ name: clusterName, cluster: { server: `https://${endpoint}`, "certificate-authority-data": caData } }],
    contexts: [{ name: clusterName, context: { cluster: clusterName, user: clusterName } }],
    users: [{ name: clusterName, user: { exec: {
      apiVersion: "client.authentication.k8s.io/v1beta1", command: "gke-gcloud-auth-plugin",
      provideClusterInfo: true, interactiveMode: "Never",
    } } }],
  });
}

/** Subnet layout of the EKS VPC: two AZs, public /20s for load balancers, private /18s for nodes and pods. */
export const EKS_NETWORK = {
  vpcCidr: "10.0.0.0/16",
  zones: ["a", "b"] as const,
  publicCidrs: ["10.0.0.0/20", "10.0.16.0/20"] as const,
  privateCidrs: ["10.0.128.0/18", "10.0.192.0/18"] as const,
};

/** Subnet layout of the GKE VPC (VPC-native: secondary ranges for pods and services). */
export const GKE_NETWORK = {
  nodesCidr: "10.10.0.0/20",
  podsRange: { rangeName: "pods", ipCidrRange: "10.20.0.0/14" },
  servicesRange: { rangeName: "services", ipCidrRange: "10.24.0.0/20" },
  masterCidr: "172.16.0.0/28",
};
