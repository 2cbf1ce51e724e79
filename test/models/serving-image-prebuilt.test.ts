/**
 * Serving images built ahead of the deploy (`servingImageRepository`): the program builds nothing and every
 * MLflow-served version's pod pulls `<repository>:<content tag>` — the same tag the program would have built, and
 * the tag whose Dockerfile `npm run plan -- --dockerfiles` writes. A malformed repository fails naming the key.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { evaluateStack } from "../../infra/evaluate.ts";
import { kubeObjects, type Obj, ofType } from "../infra/helpers.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const REPOSITORY = "registry.example.com/team/model-serving";

function serverImage(ev: Awaited<ReturnType<typeof evaluateStack>>, endpoint: string): string {
  const dep = kubeObjects(ev).map((x) => x.obj).find((o) => o.kind === "Deployment" && o.metadata.namespace === `ep-${endpoint}`)!;
  return String((dep.spec.template.spec.containers as Obj[]).find((c) => c.name === "server")!.image);
}

describe("serving images built ahead of the deploy", () => {
  const work = mkdtempSync(join(tmpdir(), "prebuilt-images-"));
  after(() => rmSync(work, { recursive: true, force: true }));

  it("builds nothing; pods pull <repository>:<the tag the program would build>", { timeout: 180_000 }, async () => {
    const built = await evaluateStack("local");
    const images = ofType(built, "docker-build:index:Image").filter((r) => String(r.name).includes("serving-images"));
    assert.ok(images.length >= 1, "the local stack builds at least one serving image by default");
    const tag = /-(py\d+\.\d+-[0-9a-f]{16})$/.exec(String(images[0]!.name))![1]!;

    const prebuilt = await evaluateStack("local", { overrides: { servingImageRepository: REPOSITORY } });
    assert.deepEqual(ofType(prebuilt, "docker-build:index:Image").filter((r) => String(r.name).includes("serving-images")), []);
    assert.equal(serverImage(prebuilt, "fraud-classifier"), `${REPOSITORY}:${tag}`);
  });

  it("plan --dockerfiles writes the Dockerfile of that tag", { timeout: 180_000 }, () => {
    const dir = join(work, "dockerfiles");
    const out = execFileSync(process.execPath, [join(ROOT, "infra/plan.ts"), "--stack", "local", "--set", `servingImageRepository=${REPOSITORY}`, "--dockerfiles", dir], { cwd: ROOT, encoding: "utf8" });
    const files = readdirSync(dir);
    assert.ok(files.length >= 1 && files.every((f) => /^py\d+\.\d+-[0-9a-f]{16}\.Dockerfile$/.test(f)), files.join(", "));
    assert.match(out, /serving image Dockerfile\(s\) written/);
    assert.match(readFileSync(join(dir, files[0]!), "utf8"), /^FROM docker\.io\/library\/python:.*\nRUN pip install/ms);
  });

  it("a repository with a tag is refused naming the key and what is allowed", { timeout: 120_000 }, async () => {
    await assert.rejects(evaluateStack("local", { overrides: { servingImageRepository: "registry.example.com/x:1" } }),
      /servingImageRepository.*"registry\.example\.com\/x:1".*without tag or digest/s);
  });
});
