// A seeded source of uniform numbers for reproducible augmentation and shuffling: mulberry32, small and
// fast, plenty for choosing flips and crop offsets (not for cryptography or statistics).

/** Uniform numbers in [0, 1), one per call. `Math.random` is one. */
export type RandomSource = () => number;

/** The same sequence for the same `seed` (an integer; taken modulo 2^32), on every platform. */
export function seededRandom(seed: number): RandomSource {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** A shuffled copy of `items` (Fisher–Yates) drawn from `random`. */
export function shuffled<T>(items: readonly T[], random: RandomSource): T[] {
  const copy = items.slice();
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy;
}
