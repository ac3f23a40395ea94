import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { ArgumentError, KerasApplicationsError } from '../src/errors';
import { fusedPredictor } from '../src/inference/fused';
import { useThreadedWasmBackend } from '../src/backend/wasm-threads';
import { describeEngineReference } from './helpers/engine-ref-suite';

// tfjs-backend-wasm's threaded binary under Node (tfjs disables it there): it must start with the threads
// asked for and give Keras's numbers.
let threads = 0;
beforeAll(async () => {
  await expect(useThreadedWasmBackend(0)).rejects.toThrow(ArgumentError);
  threads = await useThreadedWasmBackend(2);
});

describe('useThreadedWasmBackend', () => {
  it('starts the wasm backend with two XNNPACK threads on any machine', () => {
    expect(tf.getBackend()).toBe('wasm');
    expect(threads).toBe(2);
  });

  it('rejects thread counts outside 1 to 8, and a second start', async () => {
    for (const bad of [0, 9, 1.5, Number.NaN]) {
      await expect(useThreadedWasmBackend(bad)).rejects.toThrow(`threads: ${String(bad)} is not allowed. Allowed: an integer from 1 to 8`);
    }
    await expect(useThreadedWasmBackend(2)).rejects.toThrow(KerasApplicationsError);
    await expect(useThreadedWasmBackend(2)).rejects.toThrow(/already started/);
  });
});

describeEngineReference('tfjs-fused on 2 wasm threads', (model) => fusedPredictor(model), [
  ['ResNet50', 'top_default'],
  ['MobileNetV2', 'notop_avg_128x160'],
  ['EfficientNetB0', 'top_default'],
]);
