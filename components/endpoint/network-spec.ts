/**
 * An endpoint's NetworkPolicies: default-deny in both directions, then ingress only from gateway pods on the
 * serving port (and from Prometheus on the metrics port), egress only to DNS and to what reading the model needs —
 * the store and the cloud's credential endpoint, as the ModelCache describes them (`ModelStoreAccess.egress`).
 */
import { endpointLabels, endpointNamespace } from "./endpoint-spec.ts";
import { type KubeObject, type ModelStoreAccess, PLATFORM } from "../types.ts";

export function buildNetworkPolicies(endpoint: string, servePort: number, metricsPort: number | undefined, store: ModelStoreAccess): KubeObject[] {
  const ns = endpointNamespace(endpoint);
  const meta = (name: string) => ({ name, namespace: ns, labels: endpointLabels(endpoint) });
  const fromNs = (nsName: string, podLabels: Readonly<Record<string, string>>) => ({
    namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": nsName } },
    podSelector: { matchLabels: { ...podLabels } },
  });
  const ingress: KubeObject[] = [{ from: [fromNs(PLATFORM.gatewayNamespace, { [PLATFORM.labelComponent]: "gateway" })], ports: [{ protocol: "TCP", port: servePort }] }];
  if (metricsPort !== undefined) {
    ingress.push({ from: [fromNs(PLATFORM.monitoringNamespace, { "app.kubernetes.io/name": "prometheus" })], ports: [{ protocol: "TCP", port: metricsPort }] });
  }
  const storeEgress: KubeObject[] = store.egress.map((e) => ({
    to: [e.kind === "cidr" ? { ipBlock: { cidr: e.cidr } } : fromNs(e.namespace, e.podLabels)],
    ports: [{ protocol: "TCP", port: e.port }],
  }));
  return [
    { apiVersion: "networking.k8s.io/v1", kind: "NetworkPolicy", metadata: meta("default-deny"), spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"] } },
    { apiVersion: "networking.k8s.io/v1", kind: "NetworkPolicy", metadata: meta("allow-gateway"), spec: { podSelector: { matchLabels: { [PLATFORM.labelEndpoint]: endpoint } }, policyTypes: ["Ingress"], ingress } },
    {
      apiVersion: "networking.k8s.io/v1", kind: "NetworkPolicy", metadata: meta("allow-dns-and-model-store"),
      spec: {
        podSelector: { matchLabels: { [PLATFORM.labelEndpoint]: endpoint } }, policyTypes: ["Egress"],
        egress: [
          { to: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } } }], ports: [{ protocol: "UDP", port: 53 }, { protocol: "TCP", port: 53 }] },
          ...storeEgress,
        ],
      },
    },
  ];
}
