// Load time, peak RSS and predict latency of vgg16({ weights: <file> }) per available backend.
// Writes a VGG16-sized legacy .h5 (553 MB, deterministic weights, the official files' layout) once,
// then measures each backend in a fresh child process on the built package (./load-vgg16-child.mjs),
// so peak RSS belongs to that backend alone.
//
//   npm run bench            # builds, then all backends that load here
//   npm run bench -- wasm    # one backend
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generatedWeightsFile, loadFixture } from '../test/helpers/keras-ref';
import { writeLegacyWeights } from '../test/helpers/h5-writer';

const FILE = join(tmpdir(), 'keras-applications-bench', 'vgg16_weights_tf_dim_ordering_tf_kernels.h5');
const PREDICT_RUNS: Record<string, number> = { cpu: 1, wasm: 5 };

interface ChildResult {
  backend: string;
  baselineRssMB: number;
  loadSeconds: number;
  peakRssMB: number;
  predictMs: number[];
}

async function main(): Promise<void> {
  const mode = process.argv[2];
  if (!existsSync(FILE)) {
    const { mkdirSync } = await import('node:fs');
    mkdirSync(join(FILE, '..'), { recursive: true });
    console.error(`writing ${FILE} …`);
    const config = loadFixture('VGG16').configs.find((c) => c.id === 'top_default')!;
    await writeLegacyWeights(FILE, generatedWeightsFile(config));
  }
  const fileMB = statSync(FILE).size / 2 ** 20;
  console.log(`VGG16 legacy .h5: ${fileMB.toFixed(0)} MB (${FILE})`);
  // The floor for any loader: writing that much fresh memory once (slow on VMs that back memory lazily).
  const t = performance.now();
  Buffer.alloc(statSync(FILE).size).fill(1);
  console.log(`first touch of ${fileMB.toFixed(0)} MB of new memory on this machine: ${((performance.now() - t) / 1000).toFixed(2)} s`);
  const backends = mode ? [mode] : ['tensorflow', 'wasm', 'cpu'];
  for (const backend of backends) {
    const runs = String(PREDICT_RUNS[backend] ?? 5);
    const run = spawnSync(process.execPath, [fileURLToPath(new URL('./load-vgg16-child.mjs', import.meta.url)), backend, FILE, runs], {
      encoding: 'utf8',
      timeout: 600_000,
    });
    const line = run.stdout.trim().split('\n').pop() ?? '';
    if (run.status !== 0 || !line.startsWith('{')) {
      const reason = run.stderr.split('\n').find((l) => /^\w*Error: /.test(l)) ?? `exit ${run.status}`;
      console.log(`${backend}: not measured (${reason.slice(0, 300)})`);
      continue;
    }
    const r = JSON.parse(line) as ChildResult;
    const median = [...r.predictMs].sort((a, b) => a - b)[Math.floor(r.predictMs.length / 2)]!;
    console.log(
      `${r.backend}: load ${r.loadSeconds.toFixed(2)} s, peak RSS ${r.peakRssMB.toFixed(0)} MB ` +
        `(${(r.peakRssMB / fileMB).toFixed(2)}x the file; ${r.baselineRssMB.toFixed(0)} MB before loading), ` +
        `predict 1x224x224x3 median ${median.toFixed(0)} ms over ${r.predictMs.length} run(s)`,
    );
  }
}

await main();
