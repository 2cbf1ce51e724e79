/** Policy 4: images pinned (no `latest`; digests for platform images) and pulled from allowed registries. */
import { containersOf, mayHavePodTemplates, podTemplates } from "../lib/workloads.ts";
import { globMatch, str } from "../lib/read.ts";
import { describeTemplate } from "../lib/endpoints.ts";
import { isDigest, parseImage } from "../lib/images.ts";
import type { ResourcePolicyDefinition, Violation } from "../types.ts";

export interface ImagesPinnedConfig {
  /** Registry hosts images may come from (`*` globs). */
  allowedRegistries: string[];
  /** Globs over `registry/repository` that mark the platform's own images, which must be pinned by digest. */
  platformImagePatterns: string[];
}

const defaults: ImagesPinnedConfig = {
  allowedRegistries: [
    "docker.io", "ghcr.io", "quay.io", "registry.k8s.io", "nvcr.io", "public.ecr.aws",
    "*.dkr.ecr.*.amazonaws.com", "*-docker.pkg.dev", "gcr.io", "localhost:*",
  ],
  platformImagePatterns: ["*/autopilot-serving*", "*/apa-controller*"],
};

export const imagesPinned: ResourcePolicyDefinition<ImagesPinnedConfig> = {
  kind: "resource",
  name: "images-pinned-and-allowed",
  description: "Every container image has a fixed tag or digest (never latest), platform images use a digest, and registries are allowed.",
  enforcementLevel: "mandatory",
  remediation:
    "Pin the image to a version tag (e.g. vllm/vllm-openai:v0.11.0) or better a digest (…@sha256:<64 hex>); " +
    "reference platform images (controller, gateway agent) by the digest the program builds; pull only from a " +
    "registry listed in the policy config allowedRegistries (or add your mirror there).",
  defaults,
  configSchema: {
    allowedRegistries: { type: "array", items: { type: "string" }, default: defaults.allowedRegistries, description: "Allowed registry hosts (globs)." },
    platformImagePatterns: {
      type: "array", items: { type: "string" }, default: defaults.platformImagePatterns,
      description: "Globs over registry/repository marking platform images (digest required).",
    },
  },
  types: mayHavePodTemplates,
  check: (r, config) => {
    const out: Violation[] = [];
    for (const t of podTemplates(r.type, r.props)) for (const c of containersOf(t.spec)) {
      const image = str(c.props["image"]);
      const who = `${describeTemplate(r, t)} ${c.where}`;
      if (image === undefined || image.trim() === "") {
        out.push({ message: `${who}: no image.` });
        continue;
      }
      const ref = parseImage(image);
      if (ref.digest !== undefined && !isDigest(ref.digest)) {
        out.push({ message: `${who}: image "${image}" has a malformed digest; expected sha256:<64 hex>.` });
      } else if (ref.digest === undefined && (ref.tag === undefined || ref.tag === "latest")) {
        out.push({ message: `${who}: image "${image}" is not pinned (${ref.tag === undefined ? "no tag" : "tag latest"}).` });
      }
      const full = `${ref.registry}/${ref.repository}`;
      if (ref.digest === undefined && config.platformImagePatterns.some((p) => globMatch(p, full))) {
        out.push({ message: `${who}: platform image "${image}" must be pinned by digest (@sha256:…), not by tag.` });
      }
      if (!config.allowedRegistries.some((p) => globMatch(p, ref.registry))) {
        out.push({ message: `${who}: registry "${ref.registry}" of image "${image}" is not in allowedRegistries (${config.allowedRegistries.join(", ")}).` });
      }
    }
    return out;
  },
};
