/**
 * What an endpoint pod can reach under the rendered NetworkPolicies, evaluated with Kubernetes' NetworkPolicy
 * semantics (a pod selected by a policy of a direction is isolated in it; a connection is allowed when a rule of
 * a selecting policy matches peer and port; egress and the destination's ingress must both allow it): the
 * model store and the cloud's credential endpoint must be reachable (EKS Pod Identity agent, GKE metadata
 * server), and the store URL a pod is given must name a Service the stack renders, selecting the store's pods.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { EXAMPLE_STACKS } from "../../infra/evaluate.ts";
import { evaluated, kubeObjects, type Obj } from "./helpers.ts";

interface Pod { namespace: string; labels: Record<string, string>; nsLabels: Record<string, string> }
type Dest = { ip: string; port: number; protocol?: string } | { pod: Pod; port: number; protocol?: string };

function selects(sel: Obj | undefined, labels: Record<string, string>): boolean {
  if (sel === undefined) return true;
  const ml = (sel.matchLabels ?? {}) as Record<string, string>;
  if (!Object.entries(ml).every(([k, v]) => labels[k] === v)) return false;
  return ((sel.matchExpressions ?? []) as Obj[]).every((e) =>
    e.operator === "Exists" ? e.key in labels : e.operator === "DoesNotExist" ? !(e.key in labels)
      : e.operator === "In" ? (e.values as string[]).includes(labels[e.key] ?? "\0") : !(e.values as string[]).includes(labels[e.key] ?? "\0"));
}

function ipIn(ip: string, cidr: string): boolean {
  const [base, bits] = cidr.split("/") as [string, string];
  const n = (a: string) => a.split(".").reduce((x, o) => x * 256 + Number(o), 0);
  const mask = 2 ** 32 - 2 ** (32 - Number(bits));
  return (n(ip) & mask) >>> 0 === (n(base) & mask) >>> 0;
}

function peerMatches(peer: Obj, policyNs: string, d: Dest): boolean {
  if (peer.ipBlock !== undefined) return "ip" in d && ipIn(d.ip, peer.ipBlock.cidr) && !((peer.ipBlock.except ?? []) as string[]).some((c) => ipIn(d.ip, c));
  if (!("pod" in d)) return false;
  const nsOk = peer.namespaceSelector !== undefined ? selects(peer.namespaceSelector, d.pod.nsLabels) : d.pod.namespace === policyNs;
  return nsOk && selects(peer.podSelector, d.pod.labels);
}

function portMatches(ports: Obj[] | undefined, d: Dest): boolean {
  if (ports === undefined || ports.length === 0) return true;
  return ports.some((p) => (p.protocol ?? "TCP") === (d.protocol ?? "TCP") && (p.port === undefined || p.port === d.port));
}

function egressAllowed(policies: Obj[], from: Pod, d: Dest): boolean {
  const selecting = policies.filter((p) => p.metadata.namespace === from.namespace && selects(p.spec.podSelector, from.labels) && (p.spec.policyTypes as string[]).includes("Egress"));
  if (selecting.length === 0) return true;
  return selecting.some((p) => ((p.spec.egress ?? []) as Obj[]).some((rule) =>
    (rule.to === undefined || (rule.to as Obj[]).some((peer) => peerMatches(peer, p.metadata.namespace, d))) && portMatches(rule.ports, d)));
}

function ingressAllowed(policies: Obj[], to: Pod, from: Pod, port: number): boolean {
  const selecting = policies.filter((p) => p.metadata.namespace === to.namespace && selects(p.spec.podSelector, to.labels) && (p.spec.policyTypes as string[]).includes("Ingress"));
  if (selecting.length === 0) return true;
  return selecting.some((p) => ((p.spec.ingress ?? []) as Obj[]).some((rule) =>
    (rule.from === undefined || (rule.from as Obj[]).some((peer) => peerMatches(peer, p.metadata.namespace, { pod: from, port }))) && portMatches(rule.ports, { ip: "0.0.0.0", port })));
}

const S3_IP = "52.217.10.20";

for (const stack of EXAMPLE_STACKS) {
  describe(`stack ${stack}: endpoint pods reach their model and credentials, nothing else`, () => {
    it("egress to the store and the cloud's credential endpoint is admitted; the store's ingress admits them", async () => {
      const objs = kubeObjects(await evaluated(stack)).map((x) => x.obj);
      const policies = objs.filter((o) => o.kind === "NetworkPolicy");
      const nsLabels = (name: string) => ({ "kubernetes.io/metadata.name": name, ...(objs.find((o) => o.kind === "Namespace" && o.metadata.name === name)?.metadata.labels ?? {}) });
      const deps = objs.filter((o) => o.kind === "Deployment" && String(o.metadata.namespace).startsWith("ep-"));
      assert.ok(deps.length >= 2);
      for (const dep of deps) {
        const ns = dep.metadata.namespace as string;
        const pod: Pod = { namespace: ns, labels: dep.spec.template.metadata.labels, nsLabels: nsLabels(ns) };
        const who = `${ns}/${dep.metadata.name}`;
        const dns: Pod = { namespace: "kube-system", labels: { "k8s-app": "kube-dns" }, nsLabels: nsLabels("kube-system") };
        assert.ok(egressAllowed(policies, pod, { pod: dns, port: 53, protocol: "UDP" }), `${who}: DNS`);
        if (stack === "staging-aws") {
          assert.ok(egressAllowed(policies, pod, { ip: S3_IP, port: 443 }), `${who}: S3`);
          assert.ok(egressAllowed(policies, pod, { ip: "169.254.170.23", port: 80 }), `${who}: EKS Pod Identity agent (credentials)`);
        } else if (stack === "prod-gcp") {
          assert.ok(egressAllowed(policies, pod, { ip: "142.250.1.1", port: 443 }), `${who}: GCS`);
          assert.ok(egressAllowed(policies, pod, { ip: "169.254.169.254", port: 80 }), `${who}: GKE metadata server`);
          assert.ok(egressAllowed(policies, pod, { ip: "169.254.169.252", port: 988 }), `${who}: GKE metadata server (legacy datapath)`);
        } else {
          const url = new URL((dep.spec.template.spec.initContainers[0].env as Obj[]).find((e) => e.name === "AWS_ENDPOINT_URL")!.value);
          const [svcName, svcNs] = url.hostname.split(".") as [string, string];
          const svc = objs.find((o) => o.kind === "Service" && o.metadata.name === svcName && o.metadata.namespace === svcNs);
          assert.ok(svc !== undefined, `${who}: ${url.hostname} names no rendered Service`);
          assert.ok((svc.spec.ports as Obj[]).some((p) => p.port === Number(url.port)), `${who}: Service ${svcName} has no port ${url.port}`);
          const server = objs.find((o) => o.kind === "Deployment" && o.metadata.namespace === svcNs && selects({ matchLabels: svc.spec.selector }, o.spec.template.metadata.labels));
          assert.ok(server !== undefined, `${who}: Service ${svcName} selects no rendered pods`);
          const store: Pod = { namespace: svcNs, labels: server.spec.template.metadata.labels, nsLabels: nsLabels(svcNs) };
          assert.ok(egressAllowed(policies, pod, { pod: store, port: Number(url.port) }), `${who}: egress to the store`);
          assert.ok(ingressAllowed(policies, store, pod, Number(url.port)), `${who}: the store admits the endpoint`);
        }
        // Nothing else: not the internet over plain HTTP, not another namespace's pods.
        assert.ok(!egressAllowed(policies, pod, { ip: S3_IP, port: 80 }), `${who}: plain HTTP to the internet`);
        const other: Pod = { namespace: "autopilot-system", labels: { "app.kubernetes.io/component": "apa-controller" }, nsLabels: nsLabels("autopilot-system") };
        assert.ok(!egressAllowed(policies, pod, { pod: other, port: 8080 }), `${who}: the controller`);
      }
    });
  });
}
