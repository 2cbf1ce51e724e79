/**
 * Checks a serving image's pinned requirements against the Python package index its `pip install` reads, at
 * preview: each `name==version` must name a project the index has and a release of it. Reads the index's
 * Simple Repository API (PEP 503 HTML pages, or PEP 691 JSON when the index offers it) — one page per project,
 * the way pip finds distributions. Adapter: HTTP only. Requirements with markers or extras are checked by name
 * and version; whether a release has a wheel for the image's platform is left to the build.
 */

/** One requirement the index cannot satisfy. */
export interface UnresolvedRequirement {
  readonly requirement: string;
  readonly reason: string;
}

/** PEP 503 normalized project name. */
export function normalizeProject(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, "-");
}

/** Versions named by distribution file names of `project` (wheels `name-ver-…whl`, sdists `name-ver.tar.gz|.zip`). */
export function releasesOf(project: string, fileNames: readonly string[]): Set<string> {
  const versions = new Set<string>();
  const want = normalizeProject(project);
  for (const f of fileNames) {
    const base = decodeURIComponent(f.split("#")[0]!.split("/").pop() ?? "");
    let m = /^(.+?)-([^-]+)(-\d[^-]*)?-[^-]+-[^-]+-[^-]+\.whl$/.exec(base);
    if (m === null) m = /^(.+)-([^-]+)\.(?:tar\.gz|zip|tar\.bz2)$/.exec(base);
    if (m !== null && normalizeProject(m[1]!) === want) versions.add(m[2]!);
  }
  return versions;
}

/** `1.9.1` equals `1.9.1.0` and `1.9.01` as pip compares them (release segments; pre/post/dev parts compared as text). */
function sameVersion(a: string, b: string): boolean {
  const norm = (v: string) => {
    const m = /^(\d+(?:\.\d+)*)(.*)$/.exec(v.toLowerCase().replace(/^v/, ""));
    if (m === null) return v.toLowerCase();
    const parts = m[1]!.split(".").map((p) => String(Number(p)));
    while (parts.length > 1 && parts[parts.length - 1] === "0") parts.pop();
    return `${parts.join(".")}${m[2]!.replace(/[-_.]/g, "")}`;
  };
  return norm(a) === norm(b);
}

export class PackageIndexError extends Error {}

/** The file names the index lists for a project, or undefined when it has no such project (404). */
async function projectFiles(index: string, project: string, timeoutMs: number): Promise<string[] | undefined> {
  const url = `${index.replace(/\/+$/, "")}/${normalizeProject(project)}/`;
  let res: Response;
  try {
    res = await fetch(url, { headers: { accept: "application/vnd.pypi.simple.v1+json, text/html;q=0.1" }, signal: AbortSignal.timeout(timeoutMs) });
  } catch (e) {
    const cause = (e as { cause?: { code?: string } }).cause;
    throw new PackageIndexError(`the package index ${index} is unreachable (${cause?.code ?? (e as Error).message})`);
  }
  if (res.status === 404) return undefined;
  if (!res.ok) throw new PackageIndexError(`the package index ${index} answered ${res.status} for ${url}`);
  const body = await res.text();
  if ((res.headers.get("content-type") ?? "").includes("json")) {
    return ((JSON.parse(body) as { files?: { filename: string }[] }).files ?? []).map((f) => f.filename);
  }
  return [...body.matchAll(/<a\s[^>]*href="([^"]+)"[^>]*>/gi)].map((m) => m[1]!);
}

/** The pinned requirements (`name==version`, optionally `[extras]` and `; markers`) `index` cannot satisfy. */
export async function unresolvedRequirements(requirements: readonly string[], index: string, o: { readonly timeoutMs?: number; readonly concurrency?: number } = {}): Promise<UnresolvedRequirement[]> {
  const out: UnresolvedRequirement[] = [];
  const pinned = [...new Set(requirements)].map((r) => ({ r, m: /^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?\s*==\s*([^\s;,]+)/.exec(r) })).filter((x) => x.m !== null);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(o.concurrency ?? 8, pinned.length) }, async () => {
    for (let i = next++; i < pinned.length; i = next++) {
      const { r, m } = pinned[i]!;
      const files = await projectFiles(index, m![1]!, o.timeoutMs ?? 15_000);
      if (files === undefined) {
        out.push({ requirement: r, reason: `${index} has no project ${normalizeProject(m![1]!)}` });
        continue;
      }
      const releases = [...releasesOf(m![1]!, files)];
      if (!releases.some((v) => sameVersion(v, m![2]!))) {
        const listed = releases.length > 5 ? `…, ${releases.slice(-5).join(", ")}` : releases.join(", ");
        out.push({ requirement: r, reason: `${index} has no release ${m![2]} of ${normalizeProject(m![1]!)} (it lists ${releases.length > 0 ? listed : "no releases"})` });
      }
    }
  }));
  return out.sort((a, b) => (a.requirement < b.requirement ? -1 : 1));
}
