// Time of the filter gradient of MobileNet α=0.25's 1×1 convolutions (16 images at 128×128, so the top
// blocks' 4×4 maps) and of one training step of the fine-tuning example's top blocks: tfjs's cpu kernel
// against the wasm backend with this package's kernels (src/backend/wasm-training-kernels.ts).
//
//   npx tsx bench/wasm-training-kernels.ts
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { fileURLToPath } from 'node:url';
import { mobilenet } from '../src/applications/mobilenet';
import { freeze, unfreeze } from '../src/transfer/freeze';
import { withNewHead } from '../src/transfer/head';
import '../src/backend/wasm-training-kernels';

const SHAPES: [string, [number, number, number, number], [number, number, number, number]][] = [
  ['conv_pw_12 (128→256, 4×4)', [16, 4, 4, 128], [1, 1, 128, 256]],
  ['conv_pw_13 (256→256, 4×4)', [16, 4, 4, 256], [1, 1, 256, 256]],
  ['conv_pw_6 (128→128, 8×8)', [16, 8, 8, 128], [1, 1, 128, 128]],
];
const WEIGHTS = fileURLToPath(new URL('../test/data/weights/mobilenet_2_5_224_tf_no_top.h5', import.meta.url));

async function filterGradientMs(backend: string, xShape: number[], filterShape: [number, number, number, number]): Promise<number> {
  await tf.setBackend(backend);
  const x: tf.Tensor = tf.randomUniform(xShape, 0, 1);
  const dy: tf.Tensor = tf.randomUniform([...xShape.slice(0, 3), filterShape[3]], -1, 1);
  // The kernel alone, as the gradient of a convolution calls it.
  const once = () => tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { strides: 1, pad: 'same', dataFormat: 'NHWC', filterShape }) as tf.Tensor;
  once().dispose(); // warm-up
  const start = performance.now();
  const result = once();
  await result.data();
  const ms = performance.now() - start;
  tf.dispose([x, dy, result]);
  return ms;
}

async function topBlocksStepMs(): Promise<number> {
  await tf.setBackend('wasm');
  const base = await mobilenet({ alpha: 0.25, includeTop: false, weights: WEIGHTS, inputShape: [128, 128, 3] });
  const model = withNewHead(freeze(base), { classes: 5, seed: 1 });
  unfreeze(model, { from: 'conv_dw_12', keepBatchNormalizationFrozen: true });
  model.compile({ optimizer: tf.train.adam(1e-4), loss: 'categoricalCrossentropy' });
  const x = tf.randomUniform([32, 128, 128, 3], -1, 1);
  const y = tf.oneHot(tf.tensor1d(Array.from({ length: 32 }, (_, i) => i % 5), 'int32'), 5);
  await model.trainOnBatch(x, y); // warm-up
  const start = performance.now();
  await model.trainOnBatch(x, y);
  const ms = performance.now() - start;
  tf.dispose([x, y]);
  model.dispose();
  return ms;
}

const rows: string[] = [];
for (const [name, xShape, filterShape] of SHAPES) {
  const cpu = await filterGradientMs('cpu', xShape, filterShape);
  const wasm = await filterGradientMs('wasm', xShape, filterShape);
  rows.push(`| ${name} | ${cpu.toFixed(0)} ms | ${wasm.toFixed(0)} ms |`);
}
console.log('| Conv2DBackpropFilter, 16 images | cpu backend | wasm (this package) |\n|---|---|---|\n' + rows.join('\n'));
console.log(`one training step of the top blocks, 32 images at 128×128, wasm: ${(await topBlocksStepMs()).toFixed(0)} ms`);
