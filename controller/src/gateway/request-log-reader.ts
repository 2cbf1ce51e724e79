/**
 * The agent's end of HAProxy's per-request log: a UDP socket on loopback (`log 127.0.0.1:<port> … format raw`,
 * render-observe.ts). Every HAProxy process — the worker and, after a reload, the old workers finishing their
 * requests — sends to it, one datagram per request. Datagrams never block HAProxy: when the agent falls behind
 * the kernel drops them, and `drops()` reads the kernel's count for this socket (/proc/net/udp).
 */
import { createSocket, type Socket } from "node:dgram";
import { readFileSync } from "node:fs";
import { parseRequestLine, type RequestRecord } from "./request-log.ts";

export interface RequestLogReader {
  /** The UDP port HAProxy sends to. */
  readonly port: number;
  /** Lines that were not request records (counted, otherwise ignored). */
  readonly unparsed: () => number;
  /** Datagrams the kernel dropped on this socket (receive buffer full); undefined where unknown. */
  readonly drops: () => number | undefined;
  close(): Promise<void>;
}

export interface RequestLogReaderOptions {
  /** 0 = a free port. */
  readonly port?: number;
  readonly onRecord: (r: RequestRecord) => void;
  /** Lines that are not request records (HAProxy notices), e.g. to pass them to the agent's own log. */
  readonly onOtherLine?: (line: string) => void;
  /** Kernel receive buffer to ask for (capped by net.core.rmem_max). @default 4 MiB */
  readonly receiveBufferBytes?: number;
}

/** Binds the socket on 127.0.0.1 and starts reading. */
export async function startRequestLogReader(o: RequestLogReaderOptions): Promise<RequestLogReader> {
  const socket: Socket = createSocket({ type: "udp4", recvBufferSize: o.receiveBufferBytes ?? 4 * 1024 * 1024 });
  let unparsed = 0;
  socket.on("message", (msg) => {
    const text = msg.toString("utf8");
    // One record per datagram; tolerate a trailing newline or several lines.
    for (const line of text.split("\n")) {
      if (line.length === 0) continue;
      const r = parseRequestLine(line);
      if (r !== undefined) o.onRecord(r);
      else {
        unparsed += 1;
        o.onOtherLine?.(line);
      }
    }
  });
  await new Promise<void>((resolve, reject) => {
    socket.once("error", reject);
    socket.bind(o.port ?? 0, "127.0.0.1", () => resolve());
  });
  const port = socket.address().port;
  return {
    port,
    unparsed: () => unparsed,
    drops: () => udpDrops(port),
    close: () => new Promise<void>((r) => socket.close(() => r())),
  };
}

/**
 * The kernel's drop count of the IPv4 UDP socket bound to 127.0.0.1:`port`, from /proc/net/udp (last column);
 * undefined when the file or the socket is not there.
 */
export function udpDrops(port: number, procText?: string): number | undefined {
  let text = procText;
  if (text === undefined) {
    try {
      text = readFileSync("/proc/net/udp", "utf8");
    } catch {
      return undefined;
    }
  }
  const local = `0100007F:${port.toString(16).toUpperCase().padStart(4, "0")}`;
  for (const line of text.split("\n").slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f[1] === local) {
      const drops = Number(f[f.length - 1]);
      return Number.isFinite(drops) ? drops : undefined;
    }
  }
  return undefined;
}
