/**
 * Seeded pseudo-random numbers for the simulator: xoshiro128** seeded through splitmix32.
 * Hand-rolled on purpose: the simulator draws ~100M numbers per run, and a library call per draw
 * (or Math.random, which cannot be seeded) would cost more than the draw itself.
 */
export class Prng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  private spare = NaN;

  /** @param seed any integer; equal seeds give equal streams. */
  constructor(seed: number) {
    let s = (seed | 0) ^ 0x9e3779b9;
    const next = (): number => {
      s = (s + 0x9e3779b9) | 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next();
    if ((this.a | this.b | this.c | this.d) === 0) this.a = 1;
  }

  /** Uniform in (0, 1): never exactly 0, so `-log(u)` is finite. */
  uniform(): number {
    const r = Math.imul(rotl(Math.imul(this.b, 5), 7), 9) >>> 0;
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return (r + 0.5) / 4294967296;
  }

  /** Exponential with mean 1. */
  exponential(): number {
    return -Math.log(this.uniform());
  }

  /** Standard normal (Box-Muller, caching the second value). */
  normal(): number {
    if (!Number.isNaN(this.spare)) {
      const v = this.spare;
      this.spare = NaN;
      return v;
    }
    const r = Math.sqrt(-2 * Math.log(this.uniform()));
    const th = 2 * Math.PI * this.uniform();
    this.spare = r * Math.sin(th);
    return r * Math.cos(th);
  }

  /** Log-normal factor with mean 1 and coefficient of variation ≈ `cv` (exactly sigma = cv in log space). */
  jitterFactor(cv: number): number {
    if (cv <= 0) return 1;
    return Math.exp(cv * this.normal() - (cv * cv) / 2);
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
