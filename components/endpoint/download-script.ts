/**
 * The init step that fills the node-local model cache. Runs in the downloader image (aws-cli for S3 and
 * S3-compatible stores, gcloud for GCS) with the endpoint's own identity, as the platform UID.
 *
 * Contract with the model publisher (the cache layout, see docs/infra.md): a version's files live under
 * `<bucket>/<endpoint>/<version>/` beside a `SHA256SUMS` manifest (`sha256sum` format, paths relative to the
 * version directory); the version's digest is the sha256 of the manifest's bytes. The pod gets `MODEL_BUCKET`,
 * `MODEL_PREFIX` (`<endpoint>/<version>/`) and `MODEL_BYTES` (the declared size).
 *
 * - Cache key: `<cacheDir>/sha256-<hex>`; a directory with `.complete` means a previous pod on the node finished
 *   the download, so this pod skips it.
 * - Parallel chunks: `aws s3 sync` with 32 concurrent requests and 64 MB multipart chunks; on GCS the files listed
 *   in the manifest are fetched 8 at a time with `gcloud storage cp` (sliced parallel download per file). GCS reads
 *   go by the manifest because the endpoint's prefix-conditioned role cannot list the bucket.
 * - Integrity: the manifest must hash to the declared digest; files must be exactly the manifest's (nothing
 *   missing, nothing extra) and, under 10 GB, match its hashes (hashing 140 GB would add minutes).
 * - Disk (node cache only): the download is refused when it would leave less than `reservePercent` of the node
 *   filesystem free — above the kubelet's default hard eviction threshold (nodefs.available < 10%), so the cache
 *   never drives a node into DiskPressure. The node-cache preparer deletes versions no endpoint declares.
 * - Failure: one line on stderr saying what and why (the pod's termination message: the init container sets
 *   `terminationMessagePolicy: FallbackToLogsOnError`), exit 1 — the pod stays un-Ready and the kubelet retries.
 * - Concurrency on one node: each pod downloads into its own temp dir and renames it into place; the loser of
 *   a race deletes its copy.
 * Commands: POSIX sh and coreutils only (the aws-cli image is Amazon Linux 2; awk and find are not guaranteed there).
 */

/** Share of the node filesystem the cache always leaves free (the kubelet evicts at 10% by default). */
export const NODE_DISK_RESERVE_PERCENT = 15;

export interface DownloadScriptOptions {
  readonly store: "s3" | "gcs" | "minio";
  /** `sha256:<hex>` of the version's manifest. */
  readonly digest: string;
  /** Check every file's hash (models under 10 GB). */
  readonly verifyFiles: boolean;
  /** Where the cache volume is mounted. @default "/cache" */
  readonly cacheDir?: string;
  /** Guard the node filesystem (hostPath cache). @default true */
  readonly diskGuard?: boolean;
}

/** Shell script for one model version. */
export function downloadScript(o: DownloadScriptOptions): string {
  const hex = o.digest.replace(/^sha256:/, "");
  const cacheDir = o.cacheDir ?? "/cache";
  const source = o.store === "gcs" ? "gs://$MODEL_BUCKET/${MODEL_PREFIX}" : "s3://$MODEL_BUCKET/${MODEL_PREFIX}";
  const fetch =
    o.store === "gcs"
      ? [
          'gcloud storage cp "gs://$MODEL_BUCKET/${MODEL_PREFIX}SHA256SUMS" "$tmp/SHA256SUMS" || fail "no manifest at gs://$MODEL_BUCKET/${MODEL_PREFIX}SHA256SUMS (publish the version with its SHA256SUMS)"',
          // Each manifest line is "<hash>  <path>"; the path is everything after the two separator characters.
          `while IFS= read -r line; do f="\${line#* }"; f="\${f# }"; f="\${f#\\*}"; printf '%s\\n' "$f"; done < "$tmp/SHA256SUMS" | xargs -P 8 -I{} sh -c 'mkdir -p "$(dirname "$0/{}")" && gcloud storage cp "gs://$MODEL_BUCKET/\${MODEL_PREFIX}{}" "$0/{}"' "$tmp" || fail "download from ${source} failed"`,
        ].join("\n")
      : [
          // The CLI's S3 transfer settings, written directly (two `aws configure set` calls cost seconds of CLI start-up).
          'mkdir -p "$HOME/.aws" && printf \'[default]\\ns3 =\\n  max_concurrent_requests = 32\\n  multipart_chunksize = 64MB\\n\' > "$HOME/.aws/config"',
          `aws s3 sync ${o.store === "minio" ? '--endpoint-url "$AWS_ENDPOINT_URL" ' : ""}--only-show-errors "${source}" "$tmp" || fail "download from ${source} failed (see the aws error above)"`,
          `[ -f "$tmp/SHA256SUMS" ] || fail "no manifest at ${source}SHA256SUMS (publish the version with its SHA256SUMS)"`,
        ].join("\n");
  const guard = (o.diskGuard ?? true)
    ? [
        // df -P prints one data line: filesystem, 1024-blocks, used, available, capacity, mount point.
        `set -- $(df -Pk "${cacheDir}" | tail -n 1)`,
        'need_kb=$(( (${MODEL_BYTES:-0} + 1023) / 1024 )); total_kb=$2; avail_kb=$4',
        `reserve_kb=$(( total_kb * ${NODE_DISK_RESERVE_PERCENT} / 100 ))`,
        `if [ $(( avail_kb - need_kb )) -lt "$reserve_kb" ]; then fail "not enough node disk for \${MODEL_PREFIX%/}: it needs \${need_kb} KiB, \${avail_kb} KiB are free and \${reserve_kb} KiB (${NODE_DISK_RESERVE_PERCENT}% of the filesystem) stay free so the node never reaches DiskPressure"; fi`,
      ]
    : [];
  return [
    "set -eu",
    'fail() { echo "fetch-model: $*" >&2; exit 1; }',
    `dest="${cacheDir}/sha256-${hex}"`,
    'if [ -f "$dest/.complete" ]; then echo "model cached on this node: $dest"; exit 0; fi',
    ...guard,
    `mkdir -p "${cacheDir}/.partial"`,
    `tmp="$(mktemp -d "${cacheDir}/.partial/dl.XXXXXX")"`,
    // A failed or killed download leaves nothing behind.
    `trap 'rm -rf "$tmp"' EXIT`,
    fetch,
    'got="$(sha256sum "$tmp/SHA256SUMS")"; got="${got%% *}"',
    `[ "$got" = "${hex}" ] || fail "manifest ${source}SHA256SUMS has digest sha256:$got but the endpoint declares sha256:${hex} (the version changed after its digest was taken, or the digest is wrong)"`,
    // Exactly the manifest's files: each listed file present, nothing unlisted (the manifest itself aside).
    'listed=0; while IFS= read -r line; do [ -n "$line" ] || continue; f="${line#* }"; f="${f# }"; f="${f#\\*}"; [ -f "$tmp/$f" ] || fail "${MODEL_PREFIX}$f is in the manifest but not in the bucket"; listed=$((listed + 1)); done < "$tmp/SHA256SUMS"',
    'count_files() { for e in "$1"/* "$1"/.[!.]* "$1"/..?*; do if [ -d "$e" ] && [ ! -L "$e" ]; then count_files "$e"; elif [ -e "$e" ] || [ -L "$e" ]; then echo x; fi; done; }',
    'present=$(( $(count_files "$tmp" | wc -l) - 1 ))',
    `[ "$present" -eq "$listed" ] || fail "${source} holds $present files but its manifest lists $listed (every file must be in SHA256SUMS, and only those)"`,
    o.verifyFiles
      ? `(cd "$tmp" && sha256sum -c --quiet SHA256SUMS) >&2 || fail "files under ${source} do not match their SHA256SUMS (listed above)"`
      : "true # file hashes skipped for models ≥ 10 GB",
    'touch "$tmp/.complete"',
    'mv -T "$tmp" "$dest" 2>/dev/null || rm -rf "$tmp"',
    'echo "model downloaded to $dest"',
  ].join("\n");
}
