/**
 * Open-loop, constant-rate HTTP/1.1 load generator on raw keep-alive sockets (the thin shell around
 * `load-stats.ts` and `http1-response-framer.ts`).
 *
 * Request `i` is due at `start + i / rate` (a fixed timetable, whatever the server does). A due request goes out on
 * an idle keep-alive connection, or on a new one, or waits for one when `maxConnections` are busy; its latency is
 * measured from its *scheduled* time, so a slow server cannot slow the generator down and hide its own delay
 * (no coordinated omission). Request bytes are built once; timestamps come from `process.hrtime.bigint()`.
 * Sends are driven by Node timers (≈ 1 ms granularity): a request may leave up to about a millisecond after its
 * scheduled time; that lag is part of the measured latency and is reported on its own (`sendLagP99Ms`).
 */
import { connect, type Socket } from "node:net";
import { Http1ResponseFramer } from "./http1-response-framer.ts";
import { LoadOptionError, scheduledOffsetNs, summarize, timetableLength, type OpenLoopSummary } from "./load-stats.ts";

export interface OpenLoopOptions {
  readonly host: string;
  readonly port: number;
  /** Request path, e.g. `/invocations`. */
  readonly path: string;
  /** Extra request headers (Host, Content-Length and Content-Type are set from the other fields). */
  readonly headers?: Readonly<Record<string, string>>;
  readonly body: string;
  /** @default "application/json" */
  readonly contentType?: string;
  /** Requests per second (constant). */
  readonly ratePerS: number;
  /** Length of the timetable, seconds. */
  readonly durationS: number;
  /** Most keep-alive connections open at once. @default 512 */
  readonly maxConnections?: number;
  /** Connections opened before the first send. @default min(maxConnections, ceil(rate / 50) + 4) */
  readonly initialConnections?: number;
  /** How long to wait for the last responses after the timetable ends, ms. @default 5000 */
  readonly drainMs?: number;
}

/** The exact bytes of one request (sent unchanged for every request of a run). */
export function requestBytes(o: Pick<OpenLoopOptions, "host" | "port" | "path" | "headers" | "body" | "contentType">): Buffer {
  const body = Buffer.from(o.body);
  const lines = [
    `POST ${o.path} HTTP/1.1`,
    `Host: ${o.host}:${o.port}`,
    `Content-Type: ${o.contentType ?? "application/json"}`,
    `Content-Length: ${body.length}`,
    ...Object.entries(o.headers ?? {}).map(([k, v]) => `${k}: ${v}`),
  ];
  return Buffer.concat([Buffer.from(`${lines.join("\r\n")}\r\n\r\n`, "latin1"), body]);
}

interface Conn {
  readonly socket: Socket;
  readonly framer: Http1ResponseFramer;
  ready: boolean;
  /** Scheduled and actual send time (ns since the run's origin) of the request in flight. */
  inFlight: { readonly schedNs: number; readonly sentNs: number } | undefined;
}

/** Runs one timetable against `host:port` and resolves with its summary. */
export function runOpenLoop(o: OpenLoopOptions): Promise<OpenLoopSummary> {
  const n = timetableLength(o.ratePerS, o.durationS);
  const maxConns = o.maxConnections ?? 512;
  if (!Number.isInteger(maxConns) || maxConns < 1) {
    throw new LoadOptionError(`maxConnections: ${maxConns} is not allowed; must be an integer ≥ 1`);
  }
  const initial = Math.min(maxConns, o.initialConnections ?? Math.ceil(o.ratePerS / 50) + 4);
  const drainMs = o.drainMs ?? 5000;
  const bytes = requestBytes(o);
  const origin = process.hrtime.bigint();
  const nowNs = (): number => Number(process.hrtime.bigint() - origin);

  const latencyUs: number[] = [];
  const sendLagUs: number[] = [];
  const serviceUs: number[] = [];
  let non2xx = 0;
  let errors = 0;
  const conns = new Set<Conn>();
  let opened = 0;
  let connecting = 0;
  let inFlight = 0;
  const idle: Conn[] = [];
  // Scheduled times of due requests waiting for a connection (FIFO).
  const backlog: number[] = [];
  let backlogHead = 0;
  let next = 0;
  let startNs = 0;
  let settled = false;

  return new Promise<OpenLoopSummary>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    let deadline: NodeJS.Timeout | undefined;

    const finish = (): void => {
      if (settled) return;
      settled = true;
      if (timer) clearTimeout(timer);
      if (deadline) clearTimeout(deadline);
      for (const c of conns) {
        if (c.inFlight) errors++;
        c.socket.destroy();
      }
      errors += backlog.length - backlogHead + (n - next);
      resolve(summarize({ scheduled: n, durationS: o.durationS, latencyUs, sendLagUs, serviceUs, non2xx, errors, connections: opened }));
    };
    const maybeDone = (): void => {
      if (startNs > 0 && next >= n && backlogHead >= backlog.length && inFlight === 0) finish();
    };
    const send = (c: Conn, schedNs: number): void => {
      c.inFlight = { schedNs, sentNs: nowNs() };
      inFlight++;
      c.socket.write(bytes);
    };
    const release = (c: Conn): void => {
      if (backlogHead < backlog.length) send(c, backlog[backlogHead++] as number);
      else idle.push(c);
    };
    const drop = (c: Conn): void => {
      if (!conns.delete(c)) return;
      if (!c.ready) connecting--;
      if (c.inFlight) {
        errors++;
        inFlight--;
      }
      c.inFlight = undefined;
      if (startNs === 0 && !settled) {
        settled = true;
        for (const x of conns) x.socket.destroy();
        reject(new Error(`load generator: a connection to ${o.host}:${o.port} failed before the run started`));
        return;
      }
      const i = idle.indexOf(c);
      if (i >= 0) idle.splice(i, 1);
      c.socket.destroy();
      if (backlogHead < backlog.length && conns.size < maxConns && !settled) open();
      maybeDone();
    };
    const open = (): Conn => {
      const socket = connect({ host: o.host, port: o.port, noDelay: true });
      const c: Conn = { socket, framer: new Http1ResponseFramer(), ready: false, inFlight: undefined };
      conns.add(c);
      opened++;
      connecting++;
      socket.on("connect", () => {
        c.ready = true;
        connecting--;
        if (startNs > 0) release(c);
        else idle.push(c);
        if (startNs === 0 && idle.length >= initial) start();
      });
      socket.on("data", (chunk: Buffer) => {
        const t = nowNs();
        let responses;
        try {
          responses = c.framer.feed(chunk);
        } catch {
          return drop(c);
        }
        for (const r of responses) {
          const f = c.inFlight;
          if (!f) return drop(c); // a response nobody asked for
          c.inFlight = undefined;
          inFlight--;
          if (r.status >= 200 && r.status < 300) {
            latencyUs.push((t - f.schedNs) / 1000);
            sendLagUs.push((f.sentNs - f.schedNs) / 1000);
            serviceUs.push((t - f.sentNs) / 1000);
          } else {
            non2xx++;
          }
          if (r.close) return drop(c);
        }
        if (responses.length === 0) return;
        release(c);
        maybeDone();
      });
      socket.on("error", () => drop(c));
      socket.on("close", () => drop(c));
      return c;
    };
    const dispatch = (schedNs: number): void => {
      const c = idle.pop();
      if (c) return send(c, schedNs);
      backlog.push(schedNs);
      // Connections still connecting will take from the backlog; open another only when none is pending.
      if (conns.size < maxConns && connecting < backlog.length - backlogHead) open();
    };
    const tick = (): void => {
      timer = undefined;
      const now = nowNs();
      while (next < n && startNs + scheduledOffsetNs(next, o.ratePerS) <= now) {
        dispatch(startNs + scheduledOffsetNs(next, o.ratePerS));
        next++;
      }
      if (next < n) {
        const waitMs = Math.max(0, Math.floor((startNs + scheduledOffsetNs(next, o.ratePerS) - nowNs()) / 1e6));
        timer = setTimeout(tick, waitMs);
      } else {
        maybeDone();
      }
    };
    const start = (): void => {
      startNs = nowNs();
      deadline = setTimeout(finish, o.durationS * 1000 + drainMs);
      tick();
    };
    for (let i = 0; i < initial; i++) open();
  });
}
