/**
 * Option parsers for the repository's commander CLIs: each rejects a bad value with the flag, the value and
 * the allowed range, through commander's InvalidArgumentError (exit 1 with the message).
 */
import { InvalidArgumentError } from "commander";

/** An integer flag in [min, max]. */
export const intOption = (name: string, min: number, max: number) => (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`${name}: ${JSON.stringify(v)} is not allowed; must be an integer in ${min}..${max}`);
  return n;
};

/** A finite number flag in [min, max]. */
export const numberOption = (name: string, min: number, max: number) => (v: string): number => {
  const n = Number(v);
  if (!Number.isFinite(n) || n < min || n > max) throw new InvalidArgumentError(`${name}: ${JSON.stringify(v)} is not allowed; must be a number in ${min}..${max}`);
  return n;
};
