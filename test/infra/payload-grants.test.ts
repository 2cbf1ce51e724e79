/**
 * The gateway's payload-log writer as the program renders it for each example stack (fraud-classifier logs
 * payloads): the identity resources, what the gateway pods wait for, the agent's flags and environment, and — with
 * moto enforcing IAM (`INITIAL_NO_AUTH_ACTION_COUNT`) — what the rendered S3 policy documents actually allow: the
 * writer creates objects under `payload-logs/` and can do nothing else; a model reader cannot write there.
 * MinIO's policy language is S3's, so the local store's writer policy (from the rendered setup Job) is checked the
 * same way. GCS IAM cannot run here: its binding is checked as rendered (role and condition).
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { after, before, describe, it } from "node:test";
import { DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { PAYLOAD_LOG_CREDENTIALS_SECRET } from "../../components/gateway/gateway-contract.ts";
import { MINIO_PAYLOAD_WRITER, MINIO_PAYLOAD_WRITER_KEY, MINIO_URL } from "../../components/model-cache/minio-spec.ts";
import { loadAgentConfig } from "../../controller/src/gateway/agent-config.ts";
import { s3PayloadSink } from "../../controller/src/gateway/payload-sink-s3.ts";
import { requirePythonEnv } from "../../tools/python/venv.ts";
import { startS3Server, type S3Server } from "../gateway/s3-server.ts";
import { evaluated, kubeObjects, ofType, type Obj } from "./helpers.ts";
import { evaluateStack, type StackEvaluation } from "../../infra/evaluate.ts";

const byName = (ev: StackEvaluation, type: string, re: RegExp) => ofType(ev, type).filter((r) => re.test(r.name));
const one = (ev: StackEvaluation, type: string, re: RegExp) => {
  const list = byName(ev, type, re);
  assert.equal(list.length, 1, `${type} ${re}: ${list.map((r) => r.name).join(", ")}`);
  return list[0]!;
};
const gatewayDeployment = (ev: StackEvaluation) => one(ev, "kubernetes:apps/v1:Deployment", /-gateway-deployment-gateway$/);
const agentContainer = (ev: StackEvaluation): Obj => (gatewayDeployment(ev).inputs as Obj).spec.template.spec.containers.find((c: Obj) => c.name === "gateway-agent");
/** The agent's config from its rendered args and plain env values (secret refs become `from-secret`). */
const agentConfig = (ev: StackEvaluation) => {
  const c = agentContainer(ev);
  const env = Object.fromEntries((c.env as Obj[]).map((e) => [e.name, e.value !== undefined ? String(e.value) : "from-secret"]));
  return loadAgentConfig((c.args as string[]).slice(1), env);
};

describe("payload-log writer: rendered grants", () => {
  it("staging-aws: a Pod Identity role for the gateway agent with PutObject on payload-logs/ only; pods wait for it", async () => {
    const ev = await evaluated("staging-aws");
    const policy = JSON.parse(String(one(ev, "aws:iam/rolePolicy:RolePolicy", /payload-writer/).inputs.policy));
    const bucket = one(ev, "aws:s3/bucket:Bucket", /.*/);
    assert.deepEqual(policy.Statement, [
      { Sid: "WritePayloadLogs", Effect: "Allow", Action: ["s3:PutObject"], Resource: [`arn:aws:s3:::${bucket.name}-mock/payload-logs/*`] },
      { Sid: "EncryptViaS3", Effect: "Allow", Action: ["kms:GenerateDataKey"], Resource: [policy.Statement[1].Resource[0]], Condition: { StringEquals: { "kms:ViaService": `s3.${ev.config["autopilot-serving:region"]}.amazonaws.com` } } },
    ]);
    const assoc = one(ev, "aws:eks/podIdentityAssociation:PodIdentityAssociation", /payload-writer/);
    assert.deepEqual({ ns: assoc.inputs.namespace, sa: assoc.inputs.serviceAccount }, { ns: "autopilot-gateway", sa: (gatewayDeployment(ev).inputs as Obj).spec.template.spec.serviceAccountName });
    assert.match(String(assoc.inputs.roleArn), /payload-writer$/);
    assert.ok(gatewayDeployment(ev).dependencies.includes(assoc.urn), "gateway pods start only once the association exists");
    const cfg = agentConfig(ev);
    assert.deepEqual([cfg.payloadLogSink, cfg.payloadLogPrefix, cfg.payloadLogRegion, cfg.payloadLogEndpoint], ["s3", "payload-logs", ev.config["autopilot-serving:region"], undefined]);
    assert.equal(cfg.payloadLogBucket, `${bucket.name}-mock`);
  });

  it("prod-gcp: the agent's Workload Identity principal is objectCreator with a condition on payload-logs/; sink gcs", async () => {
    const ev = await evaluated("prod-gcp");
    const m = one(ev, "gcp:storage/bucketIAMMember:BucketIAMMember", /payload-writer/).inputs as Obj;
    assert.equal(m.role, "roles/storage.objectCreator");
    assert.match(m.member, /^principal:\/\/iam\.googleapis\.com\/projects\/\d+\/locations\/global\/workloadIdentityPools\/[a-z0-9-]+\.svc\.id\.goog\/subject\/ns\/autopilot-gateway\/sa\/gateway-agent$/);
    assert.equal(m.condition.expression, `resource.name.startsWith("projects/_/buckets/${m.bucket}/objects/payload-logs/")`);
    const member = one(ev, "gcp:storage/bucketIAMMember:BucketIAMMember", /payload-writer/);
    assert.ok(gatewayDeployment(ev).dependencies.includes(member.urn));
    const cfg = agentConfig(ev);
    assert.deepEqual([cfg.payloadLogSink, cfg.payloadLogBucket], ["gcs", m.bucket]);
  });

  it("local: a MinIO writer user (setup Job), its key in the gateway namespace, MinIO admits the gateway pods", async () => {
    const ev = await evaluated("local");
    const objs = kubeObjects(ev).map((o) => o.obj);
    const users = objs.find((o) => o.kind === "Secret" && o.metadata.name === "minio-users")!;
    const creds = objs.find((o) => o.kind === "Secret" && o.metadata.name === PAYLOAD_LOG_CREDENTIALS_SECRET)!;
    assert.equal(creds.metadata.namespace, "autopilot-gateway");
    assert.deepEqual(creds.stringData, { AWS_ACCESS_KEY_ID: MINIO_PAYLOAD_WRITER, AWS_SECRET_ACCESS_KEY: users.stringData[MINIO_PAYLOAD_WRITER_KEY] });
    const env = agentContainer(ev).env as Obj[];
    for (const k of ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"]) assert.deepEqual(env.find((e) => e.name === k)?.valueFrom, { secretKeyRef: { name: PAYLOAD_LOG_CREDENTIALS_SECRET, key: k } });
    const cfg = agentConfig(ev);
    assert.deepEqual([cfg.payloadLogSink, cfg.payloadLogEndpoint], ["s3", MINIO_URL]);
    const np = objs.find((o) => o.kind === "NetworkPolicy" && o.metadata.name === "minio-ingress")!;
    const gatewayLabels = (gatewayDeployment(ev).inputs as Obj).spec.template.metadata.labels;
    assert.ok(np.spec.ingress[0].from.some((f: Obj) => f.namespaceSelector?.matchLabels?.["kubernetes.io/metadata.name"] === "autopilot-gateway" && JSON.stringify(f.podSelector.matchLabels) === JSON.stringify(gatewayLabels)));
    const script = String(objs.find((o) => o.kind === "Job" && o.metadata.name === "minio-setup")!.spec.template.spec.containers[0].args[0]);
    assert.match(script, new RegExp(`mc admin user add store "${MINIO_PAYLOAD_WRITER}" "\\$secret"`));
    assert.match(script, /read -r secret < "\/etc\/minio-users\/\.payload-writer"/);
  });

  it("local with an external store: the gateway writes with its own key from the stack config; without one, a clear error", async () => {
    const external = { localModelStore: "external", localModelStoreUrl: "http://172.18.0.1:9000", localModelStoreAccessKeyId: "model-reader", localModelStoreSecretAccessKey: "reader-secret" };
    await assert.rejects(evaluateStack("local", { overrides: external }), /localPayloadLogAccessKeyId.*s3:PutObject on models\/payload-logs\/\*.*fraud-classifier log payloads/s);
    const ev = await evaluateStack("local", { overrides: { ...external, localPayloadLogAccessKeyId: "payload-writer", localPayloadLogSecretAccessKey: "writer-secret" } });
    const creds = kubeObjects(ev).map((o) => o.obj).find((o) => o.kind === "Secret" && o.metadata.name === PAYLOAD_LOG_CREDENTIALS_SECRET)!;
    assert.deepEqual(creds.stringData, { AWS_ACCESS_KEY_ID: "payload-writer", AWS_SECRET_ACCESS_KEY: "writer-secret" });
    assert.equal(agentConfig(ev).payloadLogEndpoint, "http://172.18.0.1:9000");
    await assert.rejects(evaluateStack("local", { overrides: { localPayloadLogAccessKeyId: "payload-writer", localPayloadLogSecretAccessKey: "writer-secret" } }), /localPayloadLogAccessKeyId.*in-cluster store/s);
  });
});

/** The writer policy documents as rendered, with the bucket ARN pointed at the test bucket. */
async function renderedDocs(bucket: string): Promise<{ awsWriter: string; awsReader: string; minioWriter: string }> {
  const aws = await evaluated("staging-aws");
  const retarget = (doc: string) => doc.replace(/arn:aws:s3:::[a-z0-9.-]+-mock/g, `arn:aws:s3:::${bucket}`);
  const awsWriter = retarget(String(one(aws, "aws:iam/rolePolicy:RolePolicy", /payload-writer/).inputs.policy));
  const awsReader = retarget(String(one(aws, "aws:iam/rolePolicy:RolePolicy", /^fraud-classifier-model-reader$/).inputs.policy));
  const local = await evaluated("local");
  const script = String(kubeObjects(local).map((o) => o.obj).find((o) => o.kind === "Job" && o.metadata.name === "minio-setup")!.spec.template.spec.containers[0].args[0]);
  const doc = /printf '%s' '(\{[^']*\})' > "\/tmp\/write-payload-logs\.json"/.exec(script)?.[1];
  assert.ok(doc !== undefined, "the setup script writes the writer's policy");
  const localBucket = String(local.config["autopilot-serving:localModelStoreBucket"] ?? "models");
  return { awsWriter, awsReader, minioWriter: doc.replaceAll(`arn:aws:s3:::${localBucket}/`, `arn:aws:s3:::${bucket}/`) };
}

/** Creates IAM users with the given inline policies in moto and returns their keys; then burns moto's unauthenticated calls. */
const MOTO_SETUP = `
import json, sys, boto3, botocore
ep, bucket, docs = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
kw = dict(endpoint_url=ep, region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test")
boto3.client("s3", **kw).create_bucket(Bucket=bucket)
iam = boto3.client("iam", **kw)
keys = {}
for name, doc in docs.items():
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName=name, PolicyDocument=doc)
    k = iam.create_access_key(UserName=name)["AccessKey"]
    keys[name] = {"accessKeyId": k["AccessKeyId"], "secretAccessKey": k["SecretAccessKey"]}
probe = boto3.client("s3", endpoint_url=ep, region_name="us-east-1", aws_access_key_id=keys[next(iter(keys))]["accessKeyId"], aws_secret_access_key=keys[next(iter(keys))]["secretAccessKey"])
for _ in range(60):
    try:
        probe.list_objects_v2(Bucket=bucket)
    except botocore.exceptions.ClientError as e:
        if e.response["Error"]["Code"] == "AccessDenied":
            break
else:
    sys.exit("moto never started enforcing IAM")
print(json.dumps(keys))
`;

describe("payload-log writer: the rendered S3 policies under moto's IAM enforcement", () => {
  let s3: S3Server;
  const bucket = "payload-grant-test";
  let keys: Record<string, { accessKeyId: string; secretAccessKey: string }>;
  before(async () => {
    s3 = await startS3Server({ env: { INITIAL_NO_AUTH_ACTION_COUNT: "40" } });
    const docs = await renderedDocs(bucket);
    const r = spawnSync(requirePythonEnv().bin("python"), ["-c", MOTO_SETUP, s3.endpoint, bucket, JSON.stringify(docs)], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    keys = JSON.parse(r.stdout);
  });
  after(async () => s3?.stop());
  const client = (who: string) => new S3Client({ region: "us-east-1", endpoint: s3.endpoint, forcePathStyle: true, credentials: keys[who]!, maxAttempts: 1 });
  const denied = async (what: string, p: Promise<unknown>) => {
    await assert.rejects(p, (e: Error & { name: string }) => e.name === "AccessDenied", what);
  };

  for (const who of ["awsWriter", "minioWriter"]) {
    it(`${who}: the agent's S3 sink writes payload-logs/…; models, reads, lists and deletes are refused`, async () => {
      const sink = s3PayloadSink({ bucket, region: "us-east-1", endpoint: s3.endpoint, credentials: keys[who]! });
      await sink.put(`payload-logs/endpoint=fraud-classifier/date=2026-12-03/hour=13/${who}-1.jsonl`, Buffer.from('{"status":200}\n'));
      const c = client(who);
      await denied("write a model", c.send(new PutObjectCommand({ Bucket: bucket, Key: "fraud-classifier/v3/model.pkl", Body: "x" })));
      await denied("write outside any prefix", c.send(new PutObjectCommand({ Bucket: bucket, Key: "payload-logs-evil/x", Body: "x" })));
      await denied("read its own log", c.send(new GetObjectCommand({ Bucket: bucket, Key: `payload-logs/endpoint=fraud-classifier/date=2026-12-03/hour=13/${who}-1.jsonl` })));
      await denied("list", c.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: "payload-logs/" })));
      await denied("delete", c.send(new DeleteObjectCommand({ Bucket: bucket, Key: `payload-logs/endpoint=fraud-classifier/date=2026-12-03/hour=13/${who}-1.jsonl` })));
      c.destroy();
      sink.client.destroy();
    });
  }

  it("a model reader's rendered policy cannot write payload logs", async () => {
    const c = client("awsReader");
    await denied("reader writes a payload log", c.send(new PutObjectCommand({ Bucket: bucket, Key: "payload-logs/x.jsonl", Body: "x" })));
    c.destroy();
  });
});
