// Where the time goes: tfjs kernel times of one prediction on the tfjs and tfjs-fused engines (tf.profile,
// wasm backend), grouped by kernel and, for convolutions, by kind, with the arithmetic rate each reaches;
// and PyTorch's operator times for the same model (torch.profiler), for the closing note in docs/performance.md.
//
//   npx tsx bench/profile-engines.ts [resnet50|mobilenetv2|efficientnetb0|vgg16] [batch] [--wasm-threads N]
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { getApplication } from '../src/applications/registry';
import { selectBackend } from '../src/backend';
import { fusedPredictor } from '../src/inference/fused';
import { useThreadedWasmBackend } from '../src/backend/wasm-threads';

const { values: flags, positionals } = parseArgs({
  allowPositionals: true,
  options: { 'wasm-threads': { type: 'string', default: '1' }, 'torch-threads': { type: 'string', default: '2' } },
});
const KERAS_NAMES: Record<string, string> = { resnet50: 'ResNet50', mobilenetv2: 'MobileNetV2', efficientnetb0: 'EfficientNetB0', vgg16: 'VGG16' };
const name = positionals[0] ?? 'resnet50';
const batch = Number(positionals[1] ?? 1);
const threads = Number(flags['wasm-threads']);

interface Row {
  calls: number;
  ms: number;
  flops: number;
}

interface Kernel {
  name: string;
  inputShapes: number[][];
  outputShapes: number[][];
  kernelTimeMs: unknown;
}

/** Multiply-adds × 2 of a convolution or matrix product from its shapes; 0 for other kernels. */
function flops(kernel: Kernel): number {
  const out = kernel.outputShapes[0] ?? [];
  const filter = kernel.inputShapes[1] ?? [];
  const size = out.reduce((a, b) => a * b, 1);
  if (/Conv2D$/.test(kernel.name)) return 2 * size * filter[0]! * filter[1]! * filter[2]!;
  if (/DepthwiseConv2d/.test(kernel.name)) return 2 * size * filter[0]! * filter[1]!;
  if (/MatMul/.test(kernel.name)) return 2 * size * (kernel.inputShapes[0]!.at(-1) ?? 0);
  return 0;
}

/** Convolutions split by filter size and stride class, the rest by kernel name. */
function group(kernel: { name: string; inputShapes: number[][] }): string {
  if (!/Conv2D$|DepthwiseConv2d/.test(kernel.name)) return kernel.name;
  const [kh, kw] = kernel.inputShapes[1]!;
  return `${kernel.name} ${kh}x${kw}`;
}

async function profile(label: string, predict: () => Promise<tf.Tensor>): Promise<void> {
  (await predict()).dispose();
  const start = performance.now();
  const info = await tf.profile(async () => {
    const y = await predict();
    await y.data();
    y.dispose();
  });
  const wall = performance.now() - start;
  const rows = new Map<string, Row>();
  // tf.fused ops also record their wrapper ('fusedConv2d__op'), whose time includes the kernel's.
  for (const kernel of (info.kernels as unknown as Kernel[]).filter((k) => !k.name.endsWith('__op'))) {
    const row = rows.get(group(kernel)) ?? { calls: 0, ms: 0, flops: 0 };
    row.calls++;
    row.ms += kernel.kernelTimeMs as number;
    row.flops += flops(kernel);
    rows.set(group(kernel), row);
  }
  const total = [...rows.values()].reduce((a, r) => a + r.ms, 0);
  const gflop = [...rows.values()].reduce((a, r) => a + r.flops, 0) / 1e9;
  console.log(`\n${label}: kernels ${total.toFixed(0)} ms of ${wall.toFixed(0)} ms wall (profiled run), ${gflop.toFixed(2)} GFLOP`);
  console.log('kernel                          calls        ms   share  GFLOP/s');
  for (const [key, row] of [...rows].sort((a, b) => b[1].ms - a[1].ms).slice(0, 14)) {
    const rate = row.flops > 0 ? (row.flops / 1e6 / row.ms).toFixed(1) : '';
    console.log(`${key.padEnd(30)} ${String(row.calls).padStart(6)} ${row.ms.toFixed(1).padStart(9)} ${((100 * row.ms) / total).toFixed(1).padStart(6)}% ${rate.padStart(8)}`);
  }
}

async function torchProfile(): Promise<void> {
  const python = process.env['PYTHON'] ?? (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');
  const child = spawn(python, [fileURLToPath(new URL('./torch_models.py', import.meta.url))], {
    env: { ...process.env, PYTORCH_THREADS: flags['torch-threads'], OMP_NUM_THREADS: flags['torch-threads'] },
  });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const ask = async (request: object): Promise<Record<string, unknown>> => {
    child.stdin.write(`${JSON.stringify(request)}\n`);
    return JSON.parse((await lines.next()).value as string) as Record<string, unknown>;
  };
  try {
    await ask({ cmd: 'load', model: name, batch });
    await ask({ cmd: 'run' });
    const { ops } = (await ask({ cmd: 'profile' })) as { ops: { name: string; calls: number; ms: number }[] };
    const total = ops.reduce((a, op) => a + op.ms, 0);
    console.log(`\nPyTorch ${flags['torch-threads']} threads: operators ${total.toFixed(0)} ms (self time)`);
    for (const op of ops.slice(0, 8)) {
      console.log(`${op.name.padEnd(30)} ${String(op.calls).padStart(6)} ${op.ms.toFixed(1).padStart(9)} ${((100 * op.ms) / total).toFixed(1).padStart(6)}%`);
    }
  } catch (err) {
    console.log(`\nPyTorch not profiled: ${String(err)}`);
  } finally {
    child.stdin.end();
  }
}

if (threads > 1) await useThreadedWasmBackend(threads);
else await selectBackend({ prefer: 'wasm' });
const model = await getApplication(KERAS_NAMES[name]!).build({ weights: null });
const x = tf.randomUniform([batch, 224, 224, 3], 0, 255, 'float32', 1);
const fused = fusedPredictor(model);
console.log(`${KERAS_NAMES[name]} batch ${batch}, wasm ${threads} thread(s); fused plan: ${JSON.stringify(fused.summary)}`);
await profile('tfjs (model.predict)', async () => model.predict(x) as tf.Tensor);
await profile('tfjs-fused', async () => (await fused.predict(x)) as tf.Tensor);
await torchProfile();
