/**
 * What EKS and GKE need for a first `pulumi up` to get through, checked on the resources the program registers
 * (offline, Pulumi's mocks — a TEST DOUBLE of the engine; the clouds' own behaviour is on docs/infra.md's
 * real-apply checklist): creation order (dependsOn), conflict resolution, access, the load balancer, node scaling,
 * enabled APIs, zones, timeouts sized from the model, immutable image tags, destroyable buckets.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { controllerImageTag } from "../../components/controller/image-tag.ts";
import { GCP_APIS } from "../../components/cluster/cluster.ts";
import { evaluateStack, type StackEvaluation } from "../../infra/evaluate.ts";
import { REPO_ROOT } from "../../infra/program.ts";
import { evaluated, kubeObjects, type Obj, ofType } from "./helpers.ts";

const one = (ev: StackEvaluation, type: string, name?: string) => {
  const r = ofType(ev, type).filter((x) => name === undefined || x.name === name);
  assert.equal(r.length, 1, `${type} ${name ?? ""}: ${r.length} registered`);
  return r[0]!;
};
const dependsOn = (r: { dependencies: readonly string[] }, other: { urn: string }) => r.dependencies.includes(other.urn);

describe("EKS (staging-aws)", () => {
  it("the cluster and node groups wait for their IAM policy attachments and the add-ons nodes need", async () => {
    const ev = await evaluated("staging-aws");
    const cluster = one(ev, "aws:eks/cluster:Cluster");
    assert.ok(dependsOn(cluster, one(ev, "aws:iam/rolePolicyAttachment:RolePolicyAttachment", "autopilot-cluster-cluster-policy")));
    const nodeAttachments = ofType(ev, "aws:iam/rolePolicyAttachment:RolePolicyAttachment").filter((r) => r.name.startsWith("autopilot-cluster-node-"));
    assert.equal(nodeAttachments.length, 3);
    for (const ng of ofType(ev, "aws:eks/nodeGroup:NodeGroup")) {
      for (const a of [...nodeAttachments, one(ev, "aws:eks/addon:Addon", "autopilot-cluster-vpc-cni"), one(ev, "aws:eks/addon:Addon", "autopilot-cluster-pod-identity")]) {
        assert.ok(dependsOn(ng, a), `${ng.name} does not wait for ${a.name}`);
      }
    }
  });

  it("the VPC CNI add-on adopts the CNI EKS installed (OVERWRITE) and enforces NetworkPolicies", async () => {
    const cni = one(await evaluated("staging-aws"), "aws:eks/addon:Addon", "autopilot-cluster-vpc-cni");
    assert.equal(cni.inputs.resolveConflictsOnCreate, "OVERWRITE");
    assert.deepEqual(JSON.parse(String(cni.inputs.configurationValues)), { enableNetworkPolicy: "true" });
  });

  it("admin access entries for configured principals; the API endpoint restricted to configured CIDRs", async () => {
    const arn = "arn:aws:iam::123456789012:role/ci-deploy";
    const ev = await evaluateStack("staging-aws", { overrides: { adminPrincipalArns: `["${arn}"]`, apiServerAuthorizedCidrs: '["203.0.113.0/24"]' } });
    assert.equal(one(ev, "aws:eks/accessEntry:AccessEntry").inputs.principalArn, arn);
    const pa = one(ev, "aws:eks/accessPolicyAssociation:AccessPolicyAssociation").inputs;
    assert.equal(pa.policyArn, "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy");
    assert.deepEqual(pa.accessScope, { type: "cluster" });
    assert.deepEqual((one(ev, "aws:eks/cluster:Cluster").inputs.vpcConfig as Obj).publicAccessCidrs, ["203.0.113.0/24"]);
  });

  it("each endpoint's pods wait for its Pod Identity association (else the first pods start without credentials)", async () => {
    const ev = await evaluated("staging-aws");
    for (const dep of ofType(ev, "kubernetes:apps/v1:Deployment").filter((d) => String((d.inputs.metadata as Obj).namespace).startsWith("ep-"))) {
      const ep = String((dep.inputs.metadata as Obj).namespace).slice(3);
      assert.ok(dependsOn(dep, one(ev, "aws:eks/podIdentityAssociation:PodIdentityAssociation", `${ep}-pod-identity`)), (dep.inputs.metadata as Obj).name);
    }
  });

  it("S3 is reached through a gateway VPC endpoint", async () => {
    const ep = one(await evaluated("staging-aws"), "aws:ec2/vpcEndpoint:VpcEndpoint").inputs;
    assert.equal(ep.serviceName, "com.amazonaws.us-east-1.s3");
    assert.equal(ep.vpcEndpointType, "Gateway");
    assert.equal((ep.routeTableIds as string[]).length, 2);
  });

  it("the gateway gets an NLB from the AWS Load Balancer Controller, with an idle timeout above the gateway's stream timeouts", async () => {
    const ev = await evaluated("staging-aws");
    const lbc = ofType(ev, "kubernetes:helm.sh/v4:Chart").find((c) => c.inputs.chart === "aws-load-balancer-controller")!;
    const v = lbc.inputs.values as Obj;
    assert.equal(v.enableServiceMutatorWebhook, false);
    assert.match(String(v.webhookTLS.cert), /BEGIN CERTIFICATE/, "webhook certificate generated once (the chart would mint one per render)");
    const svc = ofType(ev, "kubernetes:core/v1:Service").find((s) => (s.inputs.metadata as Obj).name === "gateway")!;
    assert.equal((svc.inputs.spec as Obj).loadBalancerClass, "service.k8s.aws/nlb");
    const ann = (svc.inputs.metadata as Obj).annotations as Record<string, string>;
    assert.equal(ann["service.beta.kubernetes.io/aws-load-balancer-nlb-target-type"], "ip");
    const idle = Number(/tcp\.idle_timeout\.seconds=(\d+)/.exec(ann["service.beta.kubernetes.io/aws-load-balancer-listener-attributes.TCP-443"] ?? "")?.[1]);
    assert.ok(idle > 15 * 60 && idle <= 6000, `NLB idle timeout ${idle}s`);
    assert.ok(dependsOn(svc, lbc), "the Service is created once the controller exists");
  });

  it("nodes scale: the Cluster Autoscaler with a Pod Identity role limited to this cluster's groups; GPU groups scale from zero", async () => {
    const ev = await evaluated("staging-aws");
    const ca = ofType(ev, "kubernetes:helm.sh/v4:Chart").find((c) => c.inputs.chart === "cluster-autoscaler")!;
    assert.equal((ca.inputs.values as Obj).autoDiscovery.clusterName, "autopilot-cluster-eks");
    const policy = JSON.parse(String(ofType(ev, "aws:iam/rolePolicy:RolePolicy").find((r) => r.name === "autopilot-eks-cluster-autoscaler-policy")!.inputs.policy)) as { Statement: Obj[] };
    assert.deepEqual(policy.Statement.find((s) => s.Sid === "ResizeOwnGroups")!.Condition, { StringEquals: { "aws:ResourceTag/k8s.io/cluster-autoscaler/autopilot-cluster-eks": "owned" } });
    const tags = Object.fromEntries(ofType(ev, "aws:autoscaling/tag:Tag").filter((t) => t.name.startsWith("autopilot-pool-gpu")).map((t) => [(t.inputs.tag as Obj).key, (t.inputs.tag as Obj).value]));
    assert.equal(tags["k8s.io/cluster-autoscaler/node-template/resources/nvidia.com/gpu"], "4");
    assert.equal(tags["k8s.io/cluster-autoscaler/node-template/taint/nvidia.com/gpu"], "present:NoSchedule");
    assert.equal(tags["k8s.io/cluster-autoscaler/node-template/label/serving.autopilot.dev/pool"], "gpu");
    assert.equal(one(ev, "aws:eks/addon:Addon", "autopilot-eks-metrics-server").inputs.addonName, "metrics-server");
  });

  it("the controller image is tagged by its build context's digest (the ECR repository's tags are immutable)", async () => {
    const ev = await evaluated("staging-aws");
    for (const repo of ofType(ev, "aws:ecr/repository:Repository")) assert.equal(repo.inputs.imageTagMutability, "IMMUTABLE", repo.name);
    const tags = ofType(ev, "docker-build:index:Image").find((r) => r.name === "autopilot-controller-image")!.inputs.tags as string[];
    const tag = controllerImageTag(REPO_ROOT);
    assert.match(tag, /^src-[0-9a-f]{20}$/);
    assert.deepEqual(tags.map((t) => t.split(":").pop()), [tag]);
  });

  it("buckets outside prod can be destroyed with their models; prod's cannot", async () => {
    assert.equal(one(await evaluated("staging-aws"), "aws:s3/bucket:Bucket").inputs.forceDestroy, true);
    assert.equal(one(await evaluated("prod-gcp"), "gcp:storage/bucket:Bucket").inputs.forceDestroy, false);
  });
});

describe("GKE (prod-gcp)", () => {
  it("enables the project's APIs first; the cluster, network and bucket wait for them", async () => {
    const ev = await evaluated("prod-gcp");
    const apis = ofType(ev, "gcp:projects/service:Service");
    assert.deepEqual(apis.map((a) => a.inputs.service).sort(), [...GCP_APIS].sort());
    for (const a of apis) assert.equal(a.inputs.disableOnDestroy, false);
    for (const r of [one(ev, "gcp:container/cluster:Cluster"), one(ev, "gcp:compute/network:Network"), one(ev, "gcp:kms/keyRing:KeyRing")]) {
      assert.ok(apis.every((a) => dependsOn(r, a)), `${r.type} does not wait for the APIs`);
    }
  });

  it("the CMEK binding names the GCS service agent Google returns (getProjectServiceAccount creates it)", async () => {
    const m = one(await evaluated("prod-gcp"), "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember").inputs;
    assert.equal(m.member, "serviceAccount:service-000000000000@gs-project-accounts.iam.gserviceaccount.com", "the mock's getProjectServiceAccount answer, not a hand-built address");
  });

  it("the GPU pool is placed in zones that offer its GPU; a reservation and authorized networks are configurable", async () => {
    const np = ofType(await evaluated("prod-gcp"), "gcp:container/nodePool:NodePool").find((p) => p.name.includes("gpu"))!;
    assert.deepEqual(np.inputs.nodeLocations, ["europe-west4-b", "europe-west4-c"]);
    const ev = await evaluateStack("prod-gcp", { overrides: { gpuReservation: "h100-reserved", apiServerAuthorizedCidrs: '["198.51.100.0/24"]' } });
    const np2 = ofType(ev, "gcp:container/nodePool:NodePool").find((p) => p.name.includes("gpu"))!;
    assert.deepEqual((np2.inputs.nodeConfig as Obj).reservationAffinity, { consumeReservationType: "SPECIFIC_RESERVATION", key: "compute.googleapis.com/reservation-name", values: ["h100-reserved"] });
    assert.deepEqual((one(ev, "gcp:container/cluster:Cluster").inputs.masterAuthorizedNetworksConfig as Obj).cidrBlocks, [{ cidrBlock: "198.51.100.0/24", displayName: "198.51.100.0/24" }]);
  });

  it("every node pool autoscales between its configured counts (the cluster autoscaler GKE runs per pool)", async () => {
    const pools = ofType(await evaluated("prod-gcp"), "gcp:container/nodePool:NodePool");
    assert.deepEqual(pools.map((p) => p.name).sort(), ["autopilot-pool-cpu-np", "autopilot-pool-gpu-np"]);
    for (const p of pools) {
      const a = p.inputs.autoscaling as Obj | undefined;
      assert.ok(a !== undefined, `${p.name} has no autoscaling`);
      assert.equal(a.locationPolicy, "ANY", `${p.name}: nodes go to any zone with capacity`);
      assert.ok(Number.isInteger(a.totalMinNodeCount) && Number.isInteger(a.totalMaxNodeCount), `${p.name}: ${JSON.stringify(a)}`);
      assert.ok(a.totalMaxNodeCount > a.totalMinNodeCount, `${p.name} cannot grow: ${JSON.stringify(a)}`);
      assert.equal(p.inputs.nodeCount, undefined, `${p.name}: a fixed nodeCount would fight the autoscaler`);
    }
  });

  it("a GPU region without known zones asks for gpuZones before anything is created", async () => {
    await assert.rejects(evaluateStack("prod-gcp", { overrides: { region: "asia-south1" } }), /field "gpuZones" has value \[\]; allowed: the zones of asia-south1 that offer h100-80gb/);
    const ev = await evaluateStack("prod-gcp", { overrides: { region: "asia-south1", gpuZones: '["asia-south1-b"]' } });
    assert.deepEqual(ofType(ev, "gcp:container/nodePool:NodePool").find((p) => p.name.includes("gpu"))!.inputs.nodeLocations, ["asia-south1-b"]);
  });
});

describe("metrics-server (the gateway HPA and the controller's metrics.k8s.io reads)", () => {
  it("local installs the pinned chart in kube-system with kind's kubelet setting; EKS the add-on; GKE ships its own", async () => {
    const local = await evaluated("local");
    const chart = one(local, "kubernetes:helm.sh/v4:Chart", "autopilot-metrics-server-chart");
    assert.equal(chart.inputs.namespace, "kube-system");
    assert.deepEqual((chart.inputs.values as Obj).args, ["--kubelet-insecure-tls"]);
    assert.equal(one(await evaluated("staging-aws"), "aws:eks/addon:Addon", "autopilot-eks-metrics-server").inputs.addonName, "metrics-server");
    assert.deepEqual(ofType(await evaluated("prod-gcp"), "kubernetes:helm.sh/v4:Chart").filter((r) => r.name.includes("metrics-server")), []);
  });
});

describe("every cloud", () => {
  it("the exported Grafana URL names the Service the chart creates; GPU ServiceMonitors wait for the Prometheus CRDs", async () => {
    for (const stack of ["local", "staging-aws", "prod-gcp"] as const) {
      const ev = await evaluated(stack);
      const kps = ofType(ev, "kubernetes:helm.sh/v4:Chart").find((c) => c.inputs.chart === "kube-prometheus-stack")!;
      assert.equal(kps.inputs.name, "kps", "release name pinned (the v4 Chart would use the resource name)");
      const grafanaService = ((kps.inputs.values as Obj).grafana as Obj).fullnameOverride as string;
      assert.equal(new URL(String(ev.outputs.grafanaUrl)).hostname, `${grafanaService}.${String(kps.inputs.namespace)}.svc`);
      for (const dcgm of ofType(ev, "kubernetes:helm.sh/v4:Chart").filter((c) => c.inputs.chart === "dcgm-exporter")) {
        assert.equal((dcgm.inputs.values as Obj).serviceMonitor.enabled, true);
        assert.ok(dependsOn(dcgm, kps), `${stack}: the DCGM ServiceMonitor is created after the CRDs`);
      }
    }
  });

  it("Pulumi waits for a version's rollout as long as the model needs (70B: download + load, not the 10-minute default)", async () => {
    const ev = await evaluateStack("prod-gcp", { overrides: { exampleLlmUri: "gs://autopilot-example-models/llama-3-70b-instruct/" } });
    const dep = ofType(ev, "kubernetes:apps/v1:Deployment").find((d) => String((d.inputs.metadata as Obj).name).startsWith("llm-chat-c-"))!;
    const seconds = Number(dep.customTimeouts?.create.replace(/s$/, ""));
    assert.ok(seconds >= 2700, `create timeout ${dep.customTimeouts?.create}`);
    assert.equal((dep.inputs.spec as Obj).progressDeadlineSeconds, seconds);
  });

  it("model servers run as the platform UID with a home, a user name and caches on the scratch volume", async () => {
    for (const stack of ["local", "prod-gcp"] as const) {
      for (const o of kubeObjects(await evaluated(stack)).map((x) => x.obj).filter((x) => x.kind === "Deployment" && String(x.metadata.namespace).startsWith("ep-"))) {
        const pod = o.spec.template.spec;
        const server = (pod.containers as Obj[]).find((c) => c.name === "server")!;
        const env = Object.fromEntries((server.env as Obj[]).map((e) => [e.name, e.value]));
        assert.equal(pod.securityContext.runAsUser, 1000);
        assert.equal(server.securityContext.readOnlyRootFilesystem, true);
        assert.equal(env.HOME, "/tmp", o.metadata.name);
        assert.ok(env.USER && env.LOGNAME, `${o.metadata.name}: getpass.getuser() needs USER/LOGNAME (uid 1000 has no passwd entry)`);
        assert.ok((server.volumeMounts as Obj[]).some((m) => m.mountPath === "/tmp"), o.metadata.name);
        if (String(server.image).includes("vllm")) {
          for (const k of ["HF_HOME", "VLLM_CACHE_ROOT", "TORCHINDUCTOR_CACHE_DIR", "TRITON_CACHE_DIR"]) assert.match(env[k] ?? "", /^\/tmp\//, `${o.metadata.name}: ${k}`);
          assert.equal((pod.volumes as Obj[]).find((v) => v.name === "tmp")!.emptyDir.sizeLimit, "20Gi");
        }
      }
    }
  });
});
