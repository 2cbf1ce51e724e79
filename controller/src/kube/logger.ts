/** JSON-lines logger. Every line carries `ts`, `level`, `msg` and the caller's fields (e.g. `endpoint: ns/name`). */
import type { Clock } from "./clock.ts";

export type LogLevel = "debug" | "info" | "warn" | "error";
const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export type LogFields = Readonly<Record<string, unknown>>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every line. */
  child(fields: LogFields): Logger;
}

/** Writes JSON lines to `write` (default stdout) at `level` and above. */
export function jsonLogger(opts: {
  readonly level: LogLevel;
  readonly clock: Clock;
  readonly write?: (line: string) => void;
  readonly fields?: LogFields;
}): Logger {
  const write = opts.write ?? ((line: string) => void process.stdout.write(`${line}\n`));
  const base = opts.fields ?? {};
  const emit = (level: LogLevel, msg: string, fields?: LogFields): void => {
    if (RANK[level] < RANK[opts.level]) return;
    const extra: Record<string, unknown> = { ...base, ...fields };
    for (const [k, v] of Object.entries(extra)) if (v instanceof Error) extra[k] = v.message;
    write(JSON.stringify({ ts: new Date(opts.clock.nowMs()).toISOString(), level, msg, ...extra }));
  };
  return {
    debug: (m, f) => emit("debug", m, f),
    info: (m, f) => emit("info", m, f),
    warn: (m, f) => emit("warn", m, f),
    error: (m, f) => emit("error", m, f),
    child: (fields) => jsonLogger({ ...opts, write, fields: { ...base, ...fields } }),
  };
}

/** Drops everything (tests that do not assert on logs). */
export const silentLogger: Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  child: () => silentLogger,
};
