/**
 * The controller image's tag: a digest of its build context — exactly the files controller/Dockerfile copies
 * (package.json, package-lock.json, tsconfig.json, controller/src/**) plus the Dockerfile. ECR and Artifact
 * Registry repositories are created with immutable tags, so a tag must name one content: a per-stack tag would be
 * pushed once and then refused. The same sources give the same tag on every machine.
 */
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import * as path from "node:path";

/** Paths (relative to the repository root) the Dockerfile's COPY lines read; directories are walked. */
export const CONTROLLER_BUILD_INPUTS = ["controller/Dockerfile", "package.json", "package-lock.json", "tsconfig.json", "controller/src"] as const;

function files(root: string, rel: string): string[] {
  const abs = path.join(root, rel);
  if (!statSync(abs).isDirectory()) return [rel];
  return readdirSync(abs).sort().flatMap((e) => files(root, path.posix.join(rel, e)));
}

/** `src-<first 20 hex of sha256>` over the inputs' paths and bytes. */
export function controllerImageTag(repoRoot: string): string {
  const h = createHash("sha256");
  for (const rel of CONTROLLER_BUILD_INPUTS.flatMap((p) => files(repoRoot, p)).sort()) {
    h.update(`${rel}\0`).update(readFileSync(path.join(repoRoot, rel))).update("\0");
  }
  return `src-${h.digest("hex").slice(0, 20)}`;
}
