// Time of loadImage per photo: sharp's decoding plus Pillow's resize to 224×224 with each filter, and the
// decoding alone (no targetSize). Median of `ROUNDS` runs per case, after one warm-up run.
//   npx tsx bench/load-images.ts
import { readFileSync } from 'node:fs';
import { loadImage, type Interpolation } from '../src/image/image';

const ROUNDS = 15;
const PHOTOS = ['elephant', 'cat', 'dog'].map((name) => ({ name, bytes: readFileSync(`test/data/images/${name}.jpg`) }));
const CASES: { label: string; interpolation?: Interpolation; keepAspectRatio?: boolean }[] = [
  { label: 'decode only' },
  ...(['nearest', 'bilinear', 'bicubic', 'lanczos', 'box', 'hamming'] as const).map((interpolation) => ({ label: interpolation, interpolation })),
  { label: 'bicubic keepAspectRatio', interpolation: 'bicubic', keepAspectRatio: true },
];

async function median(run: () => Promise<unknown>): Promise<number> {
  await run();
  const times: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const start = performance.now();
    await run();
    times.push(performance.now() - start);
  }
  return times.sort((a, b) => a - b)[Math.floor(ROUNDS / 2)]!;
}

console.log(`photo sizes: ${PHOTOS.map(({ name, bytes }) => `${name} ${bytes.length} B`).join(', ')}`);
for (const { label, interpolation, keepAspectRatio } of CASES) {
  const row: string[] = [];
  for (const { name, bytes } of PHOTOS) {
    const options = interpolation ? { targetSize: [224, 224] as [number, number], interpolation, keepAspectRatio } : {};
    row.push(`${name} ${(await median(() => loadImage(bytes, options))).toFixed(1)} ms`);
  }
  console.log(`${label.padEnd(24)} ${row.join('  ')}`);
}
