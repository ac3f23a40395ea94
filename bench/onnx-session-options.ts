// ONNX Runtime session options for the 'onnxruntime' engine, measured on ResNet50, MobileNetV2, EfficientNetB0 and
// VGG16 (random weights, batch 1): median and fastest of the timed runs (the fastest is the least disturbed on a
// shared machine), with PyTorch (bench/torch_models.py, torchvision, same shapes) run in turn
// with them so load from elsewhere on the machine hits every variant alike. Asserts nothing.
//
//   npx tsx bench/onnx-session-options.ts                       # all four models, 15 timed runs each
//   npx tsx bench/onnx-session-options.ts --models resnet50 --reps 30
//   PYTHON=/path/to/python3 (default /usr/bin/python3 when present); --torch-threads N (default 2)
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { getApplication } from '../src/applications/registry';
import { OnnxGraph, ints } from '../src/inference/onnx-graph';
import { exportOnnx } from '../src/inference/onnx-export';

const { values: flags } = parseArgs({
  options: {
    models: { type: 'string', default: 'resnet50,mobilenetv2,efficientnetb0,vgg16' },
    reps: { type: 'string', default: '15' },
    'torch-threads': { type: 'string', default: '2' },
  },
});
const KERAS_NAMES: Record<string, string> = { resnet50: 'ResNet50', mobilenetv2: 'MobileNetV2', efficientnetb0: 'EfficientNetB0', vgg16: 'VGG16' };
const reps = Number(flags.reps);
const cores = availableParallelism();

/**
 * The engine's settings (src/inference/onnx-runtime.ts) first; each other variant changes one thing. All but one
 * keep their threads from spinning after a run: a spinning pool would slow whichever session runs next here.
 */
const spinning = (allow: boolean) => ({ session: { intra_op: { allow_spinning: allow ? '1' : '0' } } });
const ENGINE: ort.InferenceSession.SessionOptions = {
  intraOpNumThreads: cores,
  graphOptimizationLevel: 'all',
  executionMode: 'sequential',
  extra: spinning(false),
};
const VARIANTS: Record<string, ort.InferenceSession.SessionOptions> = {
  [`engine (${cores} threads, all, sequential, no spin)`]: ENGINE,
  'threads spin (ONNX Runtime default)': { ...ENGINE, extra: spinning(true) },
  '1 thread': { ...ENGINE, intraOpNumThreads: 1 },
  'parallel execution': { ...ENGINE, interOpNumThreads: cores, executionMode: 'parallel' },
  'batch fixed to 1': { ...ENGINE, freeDimensionOverrides: { batch: 1 } },
  'no CPU memory arena': { ...ENGINE, enableCpuMemArena: false },
  'no memory pattern': { ...ENGINE, enableMemPattern: false },
  'optimization extended': { ...ENGINE, graphOptimizationLevel: 'extended' },
  'optimization basic': { ...ENGINE, graphOptimizationLevel: 'basic' },
};

/** bench/torch_models.py as a JSON-lines child process. */
function torchWorker() {
  const python = process.env['PYTHON'] ?? (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');
  const script = fileURLToPath(new URL('./torch_models.py', import.meta.url));
  const child = spawn(python, [script], { env: { ...process.env, PYTORCH_THREADS: flags['torch-threads'] }, stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  return {
    async ask(request: object): Promise<Record<string, number>> {
      child.stdin.write(`${JSON.stringify(request)}\n`);
      const { value, done } = await lines.next();
      if (done) throw new Error('torch_models.py exited');
      return JSON.parse(value) as Record<string, number>;
    },
    close: () => child.stdin.end(),
  };
}

const median = (samples: number[]) => [...samples].sort((a, b) => a - b)[Math.floor(samples.length / 2)]!;

async function time(run: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await run();
  return performance.now() - start;
}

/** What the NHWC interface costs: one Transpose of a 224×224 image, alone in a graph. */
async function inputTransposeMs(): Promise<number> {
  const graph = new OnnxGraph('transpose');
  graph.addInput('x', ['batch', 224, 224, 3]);
  graph.addOutput(graph.op('Transpose', ['x'], 'y', { perm: ints([0, 3, 1, 2]) }), ['batch', 3, 224, 224]);
  const session = await ort.InferenceSession.create(graph.encode(), ENGINE);
  const x = new ort.Tensor('float32', new Float32Array(224 * 224 * 3), [1, 224, 224, 3]);
  const samples: number[] = [];
  for (let i = 0; i < 50; i++) samples.push(await time(() => session.run({ x })));
  await session.release();
  return median(samples);
}

const torch = torchWorker();
console.log(`onnxruntime-node ${ort.env.versions.node}, ${cores} cores; batch 1; median of ${reps} runs after 3 warm-ups (ms)`);
console.log(`input NHWC→NCHW transpose alone: ${(await inputTransposeMs()).toFixed(3)} ms`);
for (const name of flags.models.split(',')) {
  const model = await getApplication(KERAS_NAMES[name]!).build({ weights: null });
  let start = performance.now();
  const onnx = exportOnnx(model);
  const exportMs = performance.now() - start;
  model.dispose();
  const sessions = new Map<string, ort.InferenceSession>();
  start = performance.now();
  for (const [label, options] of Object.entries(VARIANTS)) sessions.set(label, await ort.InferenceSession.create(onnx, options));
  const sessionMs = (performance.now() - start) / sessions.size;
  const input = new ort.Tensor('float32', Float32Array.from({ length: 224 * 224 * 3 }, () => Math.random() * 255), [1, 224, 224, 3]);
  await torch.ask({ cmd: 'load', model: name, batch: 1 });
  const samples = new Map<string, number[]>([...sessions.keys(), 'PyTorch'].map((label) => [label, []]));
  // Warm-ups, then rounds that run every variant once (starting one further each round), so slow moments
  // spread over all of them.
  const order = [...sessions];
  for (let round = -3; round < reps; round++) {
    order.push(order.shift()!);
    for (const [label, session] of order) {
      const ms = await time(() => session.run({ [session.inputNames[0]!]: input }));
      if (round >= 0) samples.get(label)!.push(ms);
    }
    const { ms } = await torch.ask({ cmd: 'run' });
    if (round >= 0) samples.get('PyTorch')!.push(ms!);
  }
  const torchMs = median(samples.get('PyTorch')!);
  const torchMin = Math.min(...samples.get('PyTorch')!);
  console.log(
    `\n${KERAS_NAMES[name]}: ${(onnx.length / 2 ** 20).toFixed(0)} MB ONNX, export ${exportMs.toFixed(0)} ms, session start ${sessionMs.toFixed(0)} ms`,
  );
  console.log(`  ${'variant'.padEnd(40)} ${'median'.padStart(8)} ${'×PyTorch'.padStart(9)} ${'min'.padStart(8)} ${'×PyTorch'.padStart(9)}`);
  for (const [label, values] of samples) {
    const [ms, min] = [median(values), Math.min(...values)];
    console.log(`  ${label.padEnd(40)} ${ms.toFixed(1).padStart(8)} ${(ms / torchMs).toFixed(2).padStart(9)} ${min.toFixed(1).padStart(8)} ${(min / torchMin).toFixed(2).padStart(9)}`);
  }
  for (const session of sessions.values()) await session.release();
}
torch.close();
