/**
 * Built-in open-loop load for the local loop: requests are sent on a schedule (rate per phase) whatever the
 * answers, like independent users. Not autocannon/wrk: both are closed-loop per connection, so under overload they
 * slow down with the server and hide the backlog the autoscaler must react to; this generator keeps sending.
 */
import { Agent, request } from "node:http";

/** One phase: `rate` requests/s for `durationS` seconds. */
export interface LoadPhase {
  readonly rate: number;
  readonly durationS: number;
}

/** Parses `"40@20,300@45,40@60"` (rate@seconds, comma-separated). Throws naming the bad part. */
export function parseLoadPhases(text: string): LoadPhase[] {
  return text.split(",").map((part, i) => {
    const m = /^\s*(\d+(?:\.\d+)?)@(\d+(?:\.\d+)?)s?\s*$/.exec(part);
    if (!m) throw new Error(`--load: phase ${i + 1} ${JSON.stringify(part)} is not allowed; use <requests per second>@<seconds>, e.g. 300@45`);
    const rate = Number(m[1]);
    const durationS = Number(m[2]);
    if (rate > 5000 || durationS <= 0 || durationS > 3600) {
      throw new Error(`--load: phase ${i + 1} ${JSON.stringify(part)} is not allowed; rate must be 0..5000 req/s and duration 1..3600 s`);
    }
    return { rate, durationS };
  });
}

/** Client-side counts of one second. */
export interface LoadSecond {
  sent: number;
  ok: number;
  rejected: number;
  /** 5xx answers (other than 429) and socket errors. */
  failed: number;
  other: number;
  latenciesMs: number[];
}

export interface LoadOptions {
  readonly url: string;
  readonly apiKey: string;
  readonly body: string;
  readonly phases: readonly LoadPhase[];
  /** Longest wait for an answer. @default 30000 */
  readonly timeoutMs?: number;
}

/** Runs the phases; `seconds[i]` counts requests *sent* in second i (answers are booked to their send second). */
export class OpenLoopLoad {
  readonly seconds: LoadSecond[] = [];
  private readonly o: LoadOptions;
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 2000 });
  private timer: NodeJS.Timeout | undefined;
  private startMs = 0;

  /** When `run()` started the clock its seconds are booked by (ms since the epoch; 0 before). */
  get startedAtMs(): number {
    return this.startMs;
  }
  private sent = 0;
  private inFlight = 0;
  private finished: (() => void) | undefined;
  readonly totalS: number;

  constructor(o: LoadOptions) {
    this.o = o;
    this.totalS = o.phases.reduce((a, p) => a + p.durationS, 0);
  }

  /** Requests/s scheduled at `t` seconds after the start (0 after the last phase). */
  rateAt(tS: number): number {
    let from = 0;
    for (const p of this.o.phases) {
      if (tS < from + p.durationS) return p.rate;
      from += p.durationS;
    }
    return 0;
  }

  /** Requests due by `t` seconds: the integral of the rate. */
  private dueBy(tS: number): number {
    let from = 0;
    let n = 0;
    for (const p of this.o.phases) {
      const span = Math.max(0, Math.min(tS, from + p.durationS) - from);
      n += span * p.rate;
      from += p.durationS;
    }
    return Math.floor(n);
  }

  /** Starts sending on a clock that starts at `startMs` (ms since the epoch); resolves when the schedule ended and every answer is in. */
  run(startMs = Date.now()): Promise<void> {
    this.startMs = startMs;
    return new Promise((resolve) => {
      this.finished = resolve;
      this.timer = setInterval(() => this.step(), 5);
    });
  }

  stop(): void {
    clearInterval(this.timer);
    this.agent.destroy();
    this.finished?.();
  }

  private bucket(i: number): LoadSecond {
    while (this.seconds.length <= i) this.seconds.push({ sent: 0, ok: 0, rejected: 0, failed: 0, other: 0, latenciesMs: [] });
    return this.seconds[i] as LoadSecond;
  }

  private step(): void {
    const tS = (Date.now() - this.startMs) / 1000;
    if (tS >= this.totalS) {
      clearInterval(this.timer);
      const wait = setInterval(() => {
        if (this.inFlight === 0) {
          clearInterval(wait);
          this.agent.destroy();
          this.finished?.();
        }
      }, 20);
      return;
    }
    const due = this.dueBy(tS);
    for (; this.sent < due; this.sent++) this.send(Math.floor(tS));
  }

  private send(second: number): void {
    const b = this.bucket(second);
    b.sent++;
    this.inFlight++;
    const t0 = performance.now();
    let answered = false;
    const done = (status: number): void => {
      if (answered) return;
      answered = true;
      this.inFlight--;
      if (status >= 200 && status < 300) {
        b.ok++;
        b.latenciesMs.push(performance.now() - t0);
      } else if (status === 429) b.rejected++;
      else if (status >= 500 || status === 0) b.failed++;
      else b.other++;
    };
    const req = request(
      this.o.url,
      {
        method: "POST",
        agent: this.agent,
        timeout: this.o.timeoutMs ?? 30_000,
        headers: { "content-type": "application/json", authorization: `Bearer ${this.o.apiKey}`, "content-length": Buffer.byteLength(this.o.body) },
      },
      (res) => {
        res.resume();
        res.on("end", () => done(res.statusCode ?? 0));
        res.on("error", () => done(0));
      },
    );
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", () => done(0));
    req.end(this.o.body);
  }
}
