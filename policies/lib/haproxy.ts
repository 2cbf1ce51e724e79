/**
 * Just enough of HAProxy's configuration language to decide whether a frontend rejects requests without
 * credentials before routing: sections (with what `defaults` hands down), words respecting quotes, and ACL
 * conditions (`if`/`unless`, `||`/`or`, `!`, anonymous `{ … }` and named ACLs).
 */

/** A `frontend`/`listen` section with its lines and the `default_backend` inherited from the last `defaults`. */
export interface ProxySection {
  readonly kind: "frontend" | "listen";
  readonly name: string;
  readonly lines: readonly string[];
  readonly inheritedDefaultBackend?: string;
}

const SECTION = /^(global|defaults|frontend|backend|listen|resolvers|peers|userlist|program|http-errors|ring|cache|mailers|crt-store|traces)\b\s*(\S*)/;

/** The frontends and listens of a config, comments removed. */
export function proxySections(cfg: string): ProxySection[] {
  const out: { kind: "frontend" | "listen"; name: string; lines: string[]; inheritedDefaultBackend?: string }[] = [];
  let cur: { lines: string[] } | undefined;
  let defaults: { lines: string[] } | undefined;
  let inherited: string | undefined;
  const flushDefaults = () => {
    if (defaults === undefined) return;
    const db = defaults.lines.find((l) => /^default_backend\s/.test(l));
    inherited = db;
    defaults = undefined;
  };
  for (const raw of cfg.split("\n")) {
    const line = stripComment(raw).trim();
    if (line === "") continue;
    const section = SECTION.exec(line);
    if (section !== null && raw.trimStart() === raw) {
      flushDefaults();
      cur = undefined;
      if (section[1] === "defaults") {
        // A new defaults section replaces everything the previous one set.
        inherited = undefined;
        defaults = { lines: [] };
      } else if (section[1] === "frontend" || section[1] === "listen") {
        const s = { kind: section[1] as "frontend" | "listen", name: section[2] ?? "", lines: [] as string[], ...(inherited !== undefined ? { inheritedDefaultBackend: inherited } : {}) };
        out.push(s);
        cur = s;
      }
      continue;
    }
    (defaults ?? cur)?.lines.push(line);
  }
  return out;
}

function stripComment(raw: string): string {
  let quote: string | undefined;
  for (let i = 0; i < raw.length; i++) {
    const ch = raw[i]!;
    if (quote !== undefined) {
      if (ch === "\\") i++;
      else if (ch === quote) quote = undefined;
    } else if (ch === "'" || ch === "\"") quote = ch;
    else if (ch === "\\") i++;
    else if (ch === "#") return raw.slice(0, i);
  }
  return raw;
}

/** The words of a line, quotes kept on quoted words. */
export function words(line: string): string[] {
  const out: string[] = [];
  let cur = "";
  let quote: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quote !== undefined) {
      cur += ch;
      if (ch === "\\" && i + 1 < line.length) cur += line[++i];
      else if (ch === quote) quote = undefined;
    } else if (ch === "'" || ch === "\"") {
      quote = ch;
      cur += ch;
    } else if (/\s/.test(ch)) {
      if (cur !== "") out.push(cur);
      cur = "";
    } else cur += ch;
  }
  if (cur !== "") out.push(cur);
  return out;
}

/** One term of a condition: an anonymous ACL `{ … }` or a named ACL / predefined ACL, possibly negated. */
export interface Term {
  readonly negated: boolean;
  /** `{ fetch … }` text, or the ACL name. */
  readonly text: string;
  readonly anonymous: boolean;
}

/** A rule's condition as OR-ed groups of AND-ed terms. */
export interface Condition {
  readonly keyword: "if" | "unless";
  readonly disjuncts: readonly (readonly Term[])[];
  readonly text: string;
}

/** The rule's words before its condition, and the condition (undefined when unconditional). */
export function splitCondition(line: string): { action: string[]; condition: Condition | undefined } {
  const ws = words(line);
  const at = ws.findIndex((w) => w === "if" || w === "unless");
  if (at < 0) return { action: ws, condition: undefined };
  const rest = ws.slice(at + 1);
  const disjuncts: Term[][] = [[]];
  for (let i = 0; i < rest.length; i++) {
    let w = rest[i]!;
    if (w === "||" || w === "or") {
      disjuncts.push([]);
      continue;
    }
    let negated = false;
    while (w.startsWith("!")) {
      negated = !negated;
      w = w.slice(1);
    }
    if (w === "" && rest[i + 1] !== undefined) w = rest[++i]!;
    if (w === "{") {
      const body: string[] = [];
      while (i + 1 < rest.length && rest[i + 1] !== "}") body.push(rest[++i]!);
      i++;
      disjuncts[disjuncts.length - 1]!.push({ negated, text: `{ ${body.join(" ")} }`, anonymous: true });
    } else disjuncts[disjuncts.length - 1]!.push({ negated, text: w, anonymous: false });
  }
  return { action: ws.slice(0, at), condition: { keyword: ws[at] as "if" | "unless", disjuncts, text: rest.join(" ") } };
}
