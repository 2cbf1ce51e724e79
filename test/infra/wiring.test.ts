/**
 * The platform and the controller package agree: the rendered controller and gateway-agent command lines are
 * accepted by the real programs' config parsers, the CRD and RBAC objects are the package's own, and the
 * TLS proxy config passes the real `haproxy -c` (Debian's HAProxy 2.6).
 */
import assert from "node:assert/strict";
import { execFile, execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { after, describe, it } from "node:test";
import { promisify } from "node:util";
import { servingEndpointCrd } from "../../controller/src/contract/crd/index.ts";
import { loadConfig } from "../../controller/src/kube/config.ts";
import { controllerRbac, gatewayAgentRbac } from "../../controller/src/contract/rbac.ts";
import { GATEWAY_PATHS } from "../../components/gateway/gateway-spec.ts";
import { EXAMPLE_STACKS } from "../../infra/evaluate.ts";
import { evaluated, kubeObjects, type Obj } from "./helpers.ts";

const run = promisify(execFile);
const dir = mkdtempSync(path.join(tmpdir(), "infra-wiring-"));
after(() => rmSync(dir, { recursive: true, force: true }));
execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=gateway.test",
  "-keyout", path.join(dir, "gateway.pem.key"), "-out", path.join(dir, "gateway.pem")], { stdio: "ignore" });
const AGENT = new URL("../../controller/src/gateway/agent-main.ts", import.meta.url).pathname;

for (const stack of EXAMPLE_STACKS) {
  describe(`stack ${stack}: wiring to the controller package`, () => {
    it("the CRD and the controller / gateway-agent RBAC are the package's objects", async () => {
      const objs = kubeObjects(await evaluated(stack)).map((x) => x.obj);
      assert.deepEqual(objs.find((o) => o.kind === "CustomResourceDefinition"), JSON.parse(JSON.stringify(servingEndpointCrd())));
      const byName = (kind: string, name: string) => objs.find((o) => o.kind === kind && o.metadata.name === name);
      assert.deepEqual(byName("ClusterRole", "apa-controller")!.rules, controllerRbac().clusterRole.rules);
      assert.deepEqual(byName("Role", "apa-controller-lease")!.rules, controllerRbac().role.rules);
      assert.deepEqual(byName("ClusterRole", "gateway-agent")!.rules, gatewayAgentRbac().clusterRole.rules);
      const gw = byName("Deployment", "gateway")!;
      assert.equal(gw.spec.template.spec.serviceAccountName, "gateway-agent");
      assert.ok(objs.some((o) => o.kind === "ServiceAccount" && o.metadata.name === "gateway-agent" && o.metadata.namespace === "autopilot-gateway"));
    });

    it("the controller accepts its command line (controller/src/kube/config.ts loadConfig)", async () => {
      const objs = kubeObjects(await evaluated(stack)).map((x) => x.obj);
      const c = (objs.find((o) => o.kind === "Deployment" && o.metadata.name === "apa-controller")!.spec.template.spec.containers as Obj[])[0]!;
      const cfg = loadConfig(c.args as string[], { POD_NAME: "apa-controller-0", POD_NAMESPACE: "autopilot-system" }, { hostname: "h" }, () => {});
      assert.equal(cfg.gatewayService, "autopilot-gateway/gateway-metrics");
      assert.equal(cfg.leaseName, "apa-controller");
      assert.equal(cfg.port, 8080);
    });

    it("the controller scrapes /stats on the agent's HTTP port, and the gateway NetworkPolicy admits it there", async () => {
      const objs = kubeObjects(await evaluated(stack)).map((x) => x.obj);
      const c = (objs.find((o) => o.kind === "Deployment" && o.metadata.name === "apa-controller")!.spec.template.spec.containers as Obj[])[0]!;
      const cfg = loadConfig(c.args as string[], { POD_NAME: "apa-controller-0" }, { hostname: "h" }, () => {});
      const gw = objs.find((o) => o.kind === "Deployment" && o.metadata.name === "gateway")!;
      const agent = (gw.spec.template.spec.containers as Obj[]).find((x) => x.name === "gateway-agent")!;
      const args = agent.args as string[];
      const healthPort = Number(args[args.indexOf("--health-port") + 1]);
      assert.deepEqual([cfg.gatewayMetricsPort, cfg.gatewayMetricsPath], [healthPort, "/stats"]);
      assert.ok((agent.ports as Obj[]).some((p) => p.name === "health" && p.containerPort === healthPort));
      const svc = objs.find((o) => o.kind === "Service" && o.metadata.name === "gateway-metrics")!;
      assert.ok((svc.spec.ports as Obj[]).some((p) => p.port === healthPort && p.targetPort === "health"), "gateway-metrics Service lists the stats port");
      const np = objs.find((o) => o.kind === "NetworkPolicy" && o.metadata.name === "gateway-ingress")!;
      const admits = (np.spec.ingress as Obj[]).some((rule) =>
        (rule.ports as Obj[]).some((p) => p.port === healthPort) &&
        (rule.from as Obj[] | undefined)?.some((f) => f.namespaceSelector?.matchLabels?.["kubernetes.io/metadata.name"] === "autopilot-system"));
      assert.ok(admits, "the controller's namespace may reach the agent's /stats port");
    });

    it("the gateway agent accepts its command line and API-key file (fails only for want of a cluster)", async () => {
      const objs = kubeObjects(await evaluated(stack)).map((x) => x.obj);
      const agent = (objs.find((o) => o.kind === "Deployment" && o.metadata.name === "gateway")!.spec.template.spec.containers as Obj[]).find((c) => c.name === "gateway-agent")!;
      const keys = ((objs.find((o) => o.kind === "Secret" && o.metadata.name === "gateway-api-keys")!.stringData as Obj)["api-keys.json"]) as string;
      writeFileSync(path.join(dir, `${stack}-keys.json`), keys);
      writeFileSync(path.join(dir, "kubeconfig"), "::: not a kubeconfig {{{");
      const args = (agent.args as string[]).slice(1).map((a) => a.replace(`${GATEWAY_PATHS.authDir}/api-keys.json`, path.join(dir, `${stack}-keys.json`)).replace(GATEWAY_PATHS.workDir, dir));
      await assert.rejects(run(process.execPath, [AGENT, ...args], { env: { ...process.env, KUBECONFIG: path.join(dir, "kubeconfig") }, timeout: 30_000 }), (e: { code: number; stderr: string }) => {
        assert.equal(e.code, 1, e.stderr);
        assert.doesNotMatch(e.stderr, /invalid configuration/);
        assert.match(e.stderr, /No active cluster|kubeconfig|cluster/i);
        return true;
      });
    });

    it("the TLS proxy config passes `haproxy -c`", async () => {
      const objs = kubeObjects(await evaluated(stack)).map((x) => x.obj);
      const cfg = objs.find((o) => o.kind === "ConfigMap" && o.metadata.name === "haproxy-config")!.data["haproxy.cfg"] as string;
      assert.match(cfg, /bind 0\.0\.0\.0:8443 ssl crt \/etc\/haproxy\/tls\/gateway\.pem/);
      const file = path.join(dir, `${stack}-tls.cfg`);
      writeFileSync(file, cfg.replaceAll(GATEWAY_PATHS.tlsDir, dir).replaceAll(GATEWAY_PATHS.tlsRunDir, dir));
      const out = execFileSync("haproxy", ["-c", "-f", file], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
      assert.match(out, /Configuration file is valid/);
    });
  });
}
