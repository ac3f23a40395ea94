// Batch-1 latency of ResNet50, MobileNetV2 and EfficientNetB0 (random weights, 224×224) for every tfjs backend and
// engine that headless Chromium offers here, each in its own fresh page of the same browser (bench/browser/).
// Prints a Markdown table for docs/performance.md ("Browser"); a software adapter is named as such.
//
//   npm run build && npx tsx bench/browser-bench.ts [--models ResNet50,MobileNetV2] [--runs 5] [--warmup 2] [--setups …]
import { startBenchBrowser } from './browser/chromium';

const argument = (name: string, fallback: string) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1]! : fallback;
};
const models = argument('--models', 'ResNet50,MobileNetV2,EfficientNetB0').split(',');
const runs = Number(argument('--runs', '5'));
const warmup = Number(argument('--warmup', '2'));
/** `--setups wasm/onnxruntime/cpu,wasm/tfjs-fused/cpu` times only those rows. */
const only = argument('--setups', '').split(',').filter((s) => s !== '');

/** tfjs backend, engine, device: what compileForInference runs on; 'auto' rows show the package's default choice. */
const SETUPS: [backend: string, engine: string, device: string][] = [
  ['auto', 'auto', 'auto'],
  ['wasm', 'onnxruntime', 'cpu'],
  ['wasm', 'tfjs-fused', 'cpu'],
  ['wasm', 'tfjs', 'cpu'],
  ['webgl', 'tfjs-fused', 'gpu'],
  ['webgpu', 'tfjs-fused', 'gpu'],
  ['wasm', 'onnxruntime', 'gpu'],
  ['cpu', 'tfjs-fused', 'cpu'],
];

interface Latency {
  engine: string;
  backend: string;
  times: number[];
  median: number;
}

let bench = await startBenchBrowser();
const rows: string[] = [];
try {
  const version = bench.browser.version();
  console.log(`Chromium ${version}, ${runs} timed runs after ${warmup} warm-up, batch 1, 224×224, random weights\n`);
  for (const [backend, engine, device] of SETUPS.filter((setup) => only.length === 0 || only.includes(setup.join('/')))) {
    // A crashed browser (SwiftShader's WebGPU can lose its device on a large model) is started again for the next row.
    if (!bench.browser.isConnected()) {
      await bench.close().catch(() => {});
      bench = await startBenchBrowser();
    }
    const page = await bench.openPage();
    try {
      const start = (await page.evaluate((b) => (window as unknown as { bench: { start(b: string): Promise<unknown> } }).bench.start(b), backend)) as {
        backend: string;
        tried: { name: string; ok: boolean; reason?: string }[];
      };
      const kept = start.tried.at(-1)!;
      const where = `${backend === 'auto' ? 'default: ' : ''}${start.backend}`;
      for (const model of models) {
        let cell: string;
        let ran = '';
        try {
          const r = (await page.evaluate(
            (spec) => (window as unknown as { bench: { latency(s: unknown): Promise<unknown> } }).bench.latency(spec),
            { model, engine, device, runs, warmup },
          )) as Latency;
          cell = r.median.toFixed(1);
          ran = `${r.engine}; runs ${r.times.map((t) => t.toFixed(0)).join(', ')}`;
        } catch (err) {
          cell = `failed: ${(err as Error).message.split('\n')[0]!.slice(0, 160)}`;
        }
        const row = `| ${model} | ${where} | ${engine} | ${device} | ${cell} | ${ran} | ${kept.reason ?? ''} |`;
        console.log(row);
        rows.push(row);
      }
    } finally {
      await page.close().catch(() => {});
    }
  }
} finally {
  await bench.close();
}
console.log('\n| model | tfjs backend | engine | device | median ms | engine used; runs (ms) | backend notes |');
console.log('|---|---|---|---|---:|---|---|');
for (const row of rows) console.log(row);
