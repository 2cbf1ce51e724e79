/**
 * TEST DOUBLE of the object stores model references point into, for the offline evaluation only: `s3://<bucket>/…`
 * and `gs://<bucket>/…` are read from `infra/offline-models/<s3|gs>/<bucket>/…` (see its README). Writes are refused.
 */
import { createReadStream, existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { join, relative, sep } from "node:path";
import type { Readable } from "node:stream";
import type { ObjectStore } from "../components/model/sources/object-store.ts";

export const OFFLINE_MODELS_DIR = join(import.meta.dirname, "offline-models");

export function offlineStore(kind: "s3" | "gcs", bucket: string): ObjectStore {
  const root = join(OFFLINE_MODELS_DIR, kind === "s3" ? "s3" : "gs", bucket);
  const file = (key: string) => join(root, ...key.split("/"));
  const refuse = (): never => {
    throw new Error(`the offline model store (a test double of ${kind}://${bucket}) is read-only`);
  };
  return {
    describe: `${kind === "s3" ? "s3" : "gs"}://${bucket} (offline test double)`,
    async list(prefix) {
      const out: { key: string; bytes: number }[] = [];
      const walk = (d: string) => {
        if (!existsSync(d)) return;
        for (const e of readdirSync(d, { withFileTypes: true })) {
          const p = join(d, e.name);
          if (e.isDirectory()) walk(p);
          else out.push({ key: relative(root, p).split(sep).join("/"), bytes: statSync(p).size });
        }
      };
      walk(root);
      return out.filter((o) => o.key.startsWith(prefix)).sort((a, b) => (a.key < b.key ? -1 : 1));
    },
    async get(key): Promise<Readable> {
      return createReadStream(file(key));
    },
    async getText(key) {
      return existsSync(file(key)) ? readFileSync(file(key), "utf8") : undefined;
    },
    putFile: async () => refuse(),
    putText: async () => refuse(),
    delete: async () => refuse(),
    close() {},
  };
}
