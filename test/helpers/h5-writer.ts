// Writes Keras legacy weights files (the layout of the official keras.applications files) with h5wasm,
// so tests and benchmarks can load real .h5 files made from generated weights.
import h5wasm from 'h5wasm/node';
import type { WeightsFile } from '../../src/weights/types';

/**
 * Writes `file` as a legacy `.h5`: root `layer_names`, per layer `weight_names` (Keras 2 style,
 * `<layer>/<weight>:0`) and one float32 dataset per weight at `<layer>/<layer>/<weight>:0`.
 */
export async function writeLegacyWeights(path: string, file: WeightsFile): Promise<void> {
  await h5wasm.ready;
  const h5 = new h5wasm.File(path, 'w');
  try {
    h5.create_attribute('backend', 'tensorflow');
    h5.create_attribute('keras_version', '2.2.4');
    h5.create_attribute('layer_names', file.layers.map((layer) => layer.name));
    for (const layer of file.layers) {
      const group = h5.create_group(layer.name);
      const names = layer.weights.map((w) => `${layer.name}/${w.name.replace(/:0$/, '')}:0`);
      // h5wasm cannot type an empty string list; h5py writes an empty float array for it too.
      group.create_attribute('weight_names', names.length > 0 ? names : new Float32Array(0));
      layer.weights.forEach((weight, i) => {
        const parts = names[i]!.split('/');
        let parent = group;
        for (const part of parts.slice(0, -1)) {
          parent = parent.keys().includes(part) ? (parent.get(part) as typeof group) : parent.create_group(part);
        }
        parent.create_dataset({ name: parts.at(-1)!, data: weight.data, shape: weight.shape, dtype: '<f' });
      });
    }
  } finally {
    h5.close();
  }
}
