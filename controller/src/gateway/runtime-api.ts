/**
 * HAProxy runtime API (stats socket) client and the parsers of its answers.
 *
 * The socket answers one connection per batch in non-interactive mode: write the commands separated by `;`,
 * read until HAProxy closes. Parsers are pure and tested on real 2.6.12 output.
 */
import { connect } from "node:net";
import type { SlotState } from "./types.ts";

/** Sends commands to a running HAProxy. `RuntimeApi` is the injected I/O edge of the agent. */
export interface RuntimeApi {
  /** Runs one command (or several joined by `;`) and returns HAProxy's answer text. */
  send(command: string): Promise<string>;
}

/** Runtime API over a unix stats socket. */
export class SocketRuntimeApi implements RuntimeApi {
  readonly socketPath: string;
  readonly timeoutMs: number;
  constructor(socketPath: string, timeoutMs = 5000) {
    this.socketPath = socketPath;
    this.timeoutMs = timeoutMs;
  }

  send(command: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const sock = connect(this.socketPath);
      const chunks: Buffer[] = [];
      const timer = setTimeout(() => {
        sock.destroy();
        reject(new Error(`runtime API: no answer to ${JSON.stringify(command.slice(0, 80))} within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      sock.on("connect", () => sock.end(`${command}\n`));
      sock.on("data", (c: Buffer) => chunks.push(c));
      sock.on("error", (e) => {
        clearTimeout(timer);
        reject(e);
      });
      sock.on("close", () => {
        clearTimeout(timer);
        resolve(Buffer.concat(chunks).toString("utf8"));
      });
    });
  }
}

/** One server row of `show stat -1 4 -1`. */
export interface ServerStat {
  readonly backend: string;
  readonly server: string;
  /** Requests in flight on the server. */
  readonly sessions: number;
  /** Requests queued on this server (not the backend queue). */
  readonly queued: number;
  /** Current maxconn (`slim`). */
  readonly maxconn: number;
  /** Raw status: UP, DOWN, MAINT, DRAIN, "no check", … */
  readonly status: string;
  readonly addr: string;
  readonly port: number;
}

/** Maps a raw HAProxy server status to the slot state it corresponds to. */
export function slotStateOf(status: string): SlotState {
  if (status.startsWith("MAINT")) return "maint";
  if (status.startsWith("DRAIN")) return "drain";
  return "ready";
}

/**
 * Parses `show stat -1 4 -1 typed` (servers only): one `S.<px>.<sv>.<pos>.<name>.<proc>:<tags>:<type>:<value>`
 * line per field. Not the CSV form: HAProxy does not quote CSV, and a failed health check's description
 * ("Layer4 connection problem, info: …") contains commas that shift every later column.
 */
export function parseServerStats(text: string): ServerStat[] {
  const byServer = new Map<string, Map<string, string>>();
  for (const line of text.split("\n")) {
    if (!line.startsWith("S.")) continue;
    const colon = line.indexOf(":");
    const head = line.slice(0, colon).split(".");
    const value = line.slice(colon + 1).split(":").slice(2).join(":");
    const key = `${head[1]}.${head[2]}`;
    let fields = byServer.get(key);
    if (fields === undefined) byServer.set(key, (fields = new Map()));
    fields.set(head[4] ?? "", value);
  }
  if (byServer.size === 0 && text.trim() !== "" && !text.startsWith("S.")) {
    throw new Error(`runtime API: unexpected stat answer: ${JSON.stringify(text.slice(0, 120))}`);
  }
  return [...byServer.values()].map((f) => {
    const a = f.get("addr") ?? "";
    const colon = a.lastIndexOf(":");
    return {
      backend: f.get("pxname") ?? "",
      server: f.get("svname") ?? "",
      sessions: Number(f.get("scur") || 0),
      queued: Number(f.get("qcur") || 0),
      maxconn: Number(f.get("slim") || 0),
      status: f.get("status") ?? "",
      addr: colon >= 0 ? a.slice(0, colon) : a,
      port: colon >= 0 ? Number(a.slice(colon + 1)) : 0,
    };
  });
}

/** The runtime API command whose answer `parseServerStats` reads. */
export const SHOW_SERVER_STATS = "show stat -1 4 -1 typed";

/** Parses `show map <file>` into key → value. */
export function parseShowMap(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split("\n")) {
    const m = /^0x[0-9a-f]+ (\S+) (.*)$/.exec(line.trim());
    if (m) out.set(m[1] as string, m[2] as string);
  }
  return out;
}

/** The worker's pid from `show info` (changes on every reload or restart). */
export function parseInfoPid(text: string): number {
  const m = /^Pid: (\d+)$/m.exec(text);
  if (!m) throw new Error(`runtime API: no Pid in show info answer: ${JSON.stringify(text.slice(0, 120))}`);
  return Number(m[1]);
}

/** True when an answer to a write command reports an error (HAProxy answers errors in plain text). */
export function isErrorAnswer(answer: string): boolean {
  return /no such|unknown|not found|invalid|error|require|can't|cannot|only servers|expects|missing/i.test(answer);
}
