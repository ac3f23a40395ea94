// Our inference engines side by side with PyTorch (torchvision models of the same shapes, random weights) on
// ResNet50, MobileNetV2, EfficientNetB0 and VGG16, batch 1 and 32. Runs are interleaved across three processes
// (wasm single-threaded, wasm multi-threaded, PyTorch) so load from elsewhere hits every engine alike. The last
// column, CPU time of all the engine's threads per run, shows the work done whatever the load (spinning thread
// pools, PyTorch's OpenMP especially, add to it when they wait for a core).
//
//   npx tsx bench/pytorch-compare.ts                                  # everything (< 10 min on 2 quiet cores)
//   npx tsx bench/pytorch-compare.ts --models resnet50 --batches 1 --reps 9
//   flags: --models a,b  --batches 1,32  --reps N (timed runs after one warm-up, default 5)
//          --budget-s S (per model and batch: no new repetition after S seconds, default 45)
//          --max-run-s S (an engine whose warm-up takes longer is reported from that one cold run, default 20)
//          --wasm-threads N (the multi-threaded process; 0 leaves it out; default: every core)
//          --torch-threads N (default 2)   PYTHON=/path/to/python3 (default /usr/bin/python3 when present)
//          --packed label=dir,...  instead of this repository's engines, the engine compileForInference picks in each
//                                  project dir where the packed package is installed (bench/packed-vs-pytorch.sh)
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { join } from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values: flags } = parseArgs({
  options: {
    models: { type: 'string', default: 'resnet50,mobilenetv2,efficientnetb0,vgg16' },
    batches: { type: 'string', default: '1,32' },
    reps: { type: 'string', default: '5' },
    'budget-s': { type: 'string', default: '45' },
    'max-run-s': { type: 'string', default: '20' },
    'wasm-threads': { type: 'string', default: String(availableParallelism()) },
    'torch-threads': { type: 'string', default: '2' },
    packed: { type: 'string' },
  },
});
const models = flags.models.split(',');
const batches = flags.batches.split(',').map(Number);
const reps = Number(flags.reps);
const budgetMs = Number(flags['budget-s']) * 1000;
const maxRunMs = Number(flags['max-run-s']) * 1000;
const wasmThreads = Number(flags['wasm-threads']);

/** A child process answering one JSON line per request line. */
class Worker {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly lines: AsyncIterator<string>;
  private readonly reader: Interface;

  constructor(command: string, args: string[], env: Record<string, string> = {}, cwd?: string) {
    this.child = spawn(command, args, { cwd, env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stderr.on('data', (chunk: Buffer) => process.stderr.write(chunk.toString().replace(/^npm warn.*\n/gm, '')));
    this.reader = createInterface({ input: this.child.stdout });
    this.lines = this.reader[Symbol.asyncIterator]();
  }

  async ask(request: object): Promise<Record<string, unknown>> {
    this.child.stdin.write(`${JSON.stringify(request)}\n`);
    const { value, done } = await this.lines.next();
    if (done) throw new Error(`worker exited (${this.child.exitCode})`);
    const reply = JSON.parse(value) as Record<string, unknown>;
    if (reply['error']) throw new Error(String(reply['error']));
    return reply;
  }

  close(): void {
    this.child.stdin.end();
    this.reader.close();
  }
}

/** One engine in one process: what the table shows as a row. */
interface Lane {
  label: string;
  worker: Worker;
  engine?: string;
  samples: number[];
  /** CPU time of the process (all threads) per run, ms. */
  cpu: number[];
  cold: boolean;
  unavailable?: string;
  /** The engine a packed lane's 'auto' chose. */
  chosen?: string;
}

const here = (file: string): string => fileURLToPath(new URL(file, import.meta.url));
const nodeWorker = (threads: number): Worker => new Worker(process.execPath, ['--import', 'tsx', here('./engine-worker.ts'), String(threads)]);
const python = process.env['PYTHON'] ?? (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');

/**
 * The packed projects: a copy of bench/packed-worker.mjs runs in each, so that it imports the package installed there
 * as a user's program does (from this repository, the package's own name resolves to this repository's dist/).
 */
const packed = (flags.packed ?? '').split(',').filter(Boolean).map((entry) => {
  const [label, dir] = entry.split('=') as [string, string];
  copyFileSync(here('./packed-worker.mjs'), join(dir, 'packed-worker.mjs'));
  return { label, worker: new Worker(process.execPath, ['packed-worker.mjs'], {}, dir) };
});
const single = packed.length ? undefined : nodeWorker(1);
const threaded = !packed.length && wasmThreads > 1 ? nodeWorker(wasmThreads) : undefined;
const torch = new Worker(python, [here('./torch_models.py')], { PYTORCH_THREADS: flags['torch-threads'], OMP_NUM_THREADS: flags['torch-threads'] });

function lanes(): Lane[] {
  const lane = (label: string, worker: Worker, engine?: string): Lane => ({ label, worker, engine, samples: [], cpu: [], cold: false });
  if (!single) return [...packed.map((p) => lane(p.label, p.worker, 'auto')), lane(`PyTorch ${flags['torch-threads']} threads`, torch)];
  return [
    lane('tfjs, wasm 1 thread', single, 'tfjs'),
    lane('tfjs-fused, wasm 1 thread', single, 'tfjs-fused'),
    ...(threaded ? [lane(`tfjs-fused, wasm ${wasmThreads} threads`, threaded, 'tfjs-fused')] : []),
    lane('onnxruntime', single, 'onnxruntime'),
    lane(`PyTorch ${flags['torch-threads']} threads`, torch),
  ];
}

async function runOnce(lane: Lane): Promise<{ ms: number; cpuMs: number }> {
  const reply = await lane.worker.ask(lane.engine ? { cmd: 'run', engine: lane.engine } : { cmd: 'run' });
  return { ms: reply['ms'] as number, cpuMs: reply['cpuMs'] as number };
}

function record(lane: Lane, run: { ms: number; cpuMs: number }): void {
  lane.samples.push(run.ms);
  lane.cpu.push(run.cpuMs);
}

async function measure(model: string, batch: number): Promise<Lane[]> {
  const all = lanes();
  for (const worker of new Set(all.map((l) => l.worker))) {
    const engines = all.filter((l) => l.worker === worker && l.engine).map((l) => l.engine);
    try {
      const reply = await worker.ask({ cmd: 'load', model, batch, engines });
      const status = (reply['engines'] ?? {}) as Record<string, string>;
      for (const lane of all.filter((l) => l.worker === worker && l.engine)) {
        if (status[lane.engine!] !== 'ok') lane.unavailable = status[lane.engine!];
        lane.chosen = reply['chosen'] as string | undefined;
      }
    } catch (err) {
      for (const lane of all.filter((l) => l.worker === worker)) lane.unavailable = String(err);
    }
  }
  const live = all.filter((l) => !l.unavailable);
  for (const lane of live) {
    // A run longer than --max-run-s is kept as the engine's only sample; a shorter one is a warm-up.
    const warm = await runOnce(lane);
    lane.cold = warm.ms > maxRunMs;
    if (lane.cold) record(lane, warm);
  }
  const started = performance.now();
  for (let rep = 0; rep < reps && (rep === 0 || performance.now() - started < budgetMs); rep++) {
    for (const lane of live.filter((l) => !l.cold)) record(lane, await runOnce(lane));
  }
  return all;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const fmt = (ms: number): string => (ms >= 10_000 ? ms.toFixed(0) : ms.toPrecision(3));

const results: object[] = [];
console.log(`${cpus()[0]?.model ?? 'cpu'}, ${availableParallelism()} cores; node ${process.version}; ${new Date().toISOString()}`);
for (const model of models) {
  for (const batch of batches) {
    const measured = await measure(model, batch);
    const reference = measured.find((l) => !l.engine && l.samples.length > 0);
    const torchMedian = reference ? median(reference.samples) : undefined;
    console.log(`\n${model}, batch ${batch} (224×224)`);
    console.log('engine                          runs  median ms     min ms   images/s  median / PyTorch  CPU ms (median)');
    for (const lane of measured) {
      if (lane.unavailable || lane.samples.length === 0) {
        console.log(`${lane.label.padEnd(30)}  ${lane.unavailable ?? 'no runs'}`);
        continue;
      }
      const med = median(lane.samples);
      const ratio = torchMedian ? (med / torchMedian).toFixed(2) : '–';
      const runs = lane.cold ? '1 cold' : String(lane.samples.length);
      const label = lane.chosen ? `${lane.label} (${lane.chosen})` : lane.label;
      console.log(
        `${label.padEnd(30)}  ${runs.padStart(6)}  ${fmt(med).padStart(9)}  ${fmt(Math.min(...lane.samples)).padStart(9)}  ` +
          `${((batch * 1000) / med).toFixed(1).padStart(9)}  ${ratio.padStart(16)}  ${fmt(median(lane.cpu)).padStart(15)}`,
      );
      results.push({ model, batch, engine: label, samples: lane.samples, cpu: lane.cpu, cold: lane.cold, median: med, ratio: torchMedian ? med / torchMedian : null });
    }
  }
}
for (const worker of [single, threaded, torch, ...packed.map((p) => p.worker)]) worker?.close();
mkdirSync('.tmp', { recursive: true });
writeFileSync('.tmp/pytorch-compare.json', JSON.stringify(results, null, 1));
console.log('\nraw samples: .tmp/pytorch-compare.json');
