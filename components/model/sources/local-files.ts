/**
 * A model directory on this machine: its files (walked, sized and hashed with streaming sha256) and the text of its
 * metadata files. Adapter: file-system reads only. Links are followed only when they stay inside the directory.
 */
import { createHash } from "node:crypto";
import { createReadStream, existsSync, readFileSync, realpathSync, statSync } from "node:fs";
import { readdir } from "node:fs/promises";
import { join, relative, sep } from "node:path";
import { MANIFEST_NAME, type ModelFile } from "../manifest.ts";

/** Metadata files larger than this are not read as text (a config.json is kilobytes). */
const MAX_TEXT_BYTES = 4 << 20;

/** sha256 of a file, streamed. */
export function sha256File(path: string): Promise<string> {
  return new Promise((resolveHash, reject) => {
    const h = createHash("sha256");
    createReadStream(path).on("error", reject).on("data", (d) => h.update(d)).on("end", () => resolveHash(h.digest("hex")));
  });
}

/** Every file under `dir` (relative POSIX paths, sorted), hashed 4 at a time. The top-level SHA256SUMS is left
 * out: a published version's manifest is made from its files, never copied. */
export async function listLocalFiles(dir: string): Promise<ModelFile[]> {
  const root = realpathSync(dir);
  const paths: string[] = [];
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile()) paths.push(p);
      else if (e.isSymbolicLink()) {
        const target = realpathSync(p);
        if (!target.startsWith(root + sep)) throw new Error(`${p} links outside the model directory (${target})`);
        if (statSync(target).isDirectory()) await walk(p);
        else paths.push(p);
      }
    }
  };
  await walk(root);
  const rels = paths.map((p) => relative(root, p).split(sep).join("/")).filter((p) => p !== MANIFEST_NAME).sort();
  const out: ModelFile[] = new Array(rels.length);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(4, rels.length) }, async () => {
    for (let i = next++; i < rels.length; i = next++) {
      const abs = join(root, rels[i]!);
      out[i] = { path: rels[i]!, bytes: statSync(abs).size, sha256: await sha256File(abs) };
    }
  }));
  return out;
}

/** Reads a small metadata file of the directory, or undefined when absent. */
export function readLocalText(dir: string, path: string): string | undefined {
  const abs = join(dir, path);
  if (!existsSync(abs) || !statSync(abs).isFile() || statSync(abs).size > MAX_TEXT_BYTES) return undefined;
  return readFileSync(abs, "utf8");
}
