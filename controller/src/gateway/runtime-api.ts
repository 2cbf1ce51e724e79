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

function csvRows(text: string): { header: string[]; rows: string[][] } {
  const lines = text.split("\n").filter((l) => l.trim() !== "");
  const first = lines[0] ?? "";
  if (!first.startsWith("# ")) throw new Error(`runtime API: unexpected stat answer: ${JSON.stringify(first.slice(0, 120))}`);
  // HAProxy's stat CSV has no quoting; free-text fields (check descriptions) are empty without health checks.
  return { header: first.slice(2).split(","), rows: lines.slice(1).map((l) => l.split(",")) };
}

/** Parses `show stat -1 4 -1` (servers only). */
export function parseServerStats(text: string): ServerStat[] {
  const { header, rows } = csvRows(text);
  const col = (name: string): number => {
    const i = header.indexOf(name);
    if (i < 0) throw new Error(`runtime API: stat CSV has no column ${name}`);
    return i;
  };
  const [px, sv, scur, qcur, slim, status, addr] = ["pxname", "svname", "scur", "qcur", "slim", "status", "addr"].map(col) as [
    number, number, number, number, number, number, number,
  ];
  return rows
    .filter((r) => r[sv] !== "FRONTEND" && r[sv] !== "BACKEND")
    .map((r) => {
      const a = r[addr] ?? "";
      const colon = a.lastIndexOf(":");
      return {
        backend: r[px] ?? "",
        server: r[sv] ?? "",
        sessions: Number(r[scur] ?? 0),
        queued: Number(r[qcur] ?? 0),
        maxconn: Number(r[slim] || 0),
        status: r[status] ?? "",
        addr: colon >= 0 ? a.slice(0, colon) : a,
        port: colon >= 0 ? Number(a.slice(colon + 1)) : 0,
      };
    });
}

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
