/**
 * The payload log's local-file sink (`npm run dev`, a laptop): each batch becomes `<dir>/<key>`, the same
 * hive-partitioned layout as in a bucket, so DuckDB reads it the same way (`read_json_auto` over the directory's
 * `.jsonl` files with `hive_partitioning = true`). Written to a temporary name and renamed: a reader never sees
 * half an object.
 */
import { mkdir, rename, writeFile } from "node:fs/promises";
import { dirname, join, resolve, sep } from "node:path";
import type { PayloadSink } from "./payload-logger.ts";

export function filePayloadSink(dir: string): PayloadSink & { dir: string } {
  const root = resolve(dir);
  let seq = 0;
  return {
    dir: root,
    async put(key, body) {
      const path = resolve(join(root, key));
      if (!path.startsWith(root + sep)) throw new Error(`payload log: key ${JSON.stringify(key)} leaves ${root}`);
      await mkdir(dirname(path), { recursive: true });
      seq += 1;
      const tmp = `${path}.tmp-${process.pid}-${seq}`;
      await writeFile(tmp, body, { flag: "wx" });
      await rename(tmp, path);
    },
  };
}
