// Official-looking Keras 2 weights files (the layout of the official keras.applications files) made from
// generated weights, so tests can load real .h5 files; the package's own writer writes them.
import { writeLegacyWeights as writeFile } from '../../src/weights/save';
import type { WeightsFile } from '../../src/weights/types';

/**
 * Writes `file` as Keras 2 wrote weights: weight names `<layer>/<weight>:0` (a `:0` already there is kept
 * once), root `backend` and `keras_version` as in the official files, no Keras 3 `top_level_model_weights`.
 */
export async function writeLegacyWeights(path: string, file: WeightsFile): Promise<void> {
  await writeFile(path, {
    format: 'legacy',
    attributes: { backend: 'tensorflow', keras_version: '2.2.4' },
    layers: file.layers.map((layer) => ({
      name: layer.name,
      weights: layer.weights.map((weight) => ({ ...weight, name: `${layer.name}/${weight.name.replace(/:0$/, '')}:0` })),
    })),
  });
}

/**
 * Writes a legacy full-model `.h5` as Keras 2's `model.save('m.h5')` laid it out: root attributes `model_config`
 * (the JSON of `modelConfig`), `keras_version`, `backend`; group `model_weights` with `layer_names` and one group
 * per layer holding `weight_names` and the datasets at `<layer>/<weight>:0` (a nested model's weights at
 * `<model>/<inner layer>/<weight>:0`). For configs that come without weights: the tests give them generated ones.
 */
export async function writeFullModelH5(path: string, modelConfig: unknown, file: WeightsFile, kerasVersion = '2.2.4'): Promise<void> {
  const { default: h5wasm } = await import('h5wasm/node');
  await h5wasm.ready;
  const h5 = new h5wasm.File(path, 'w');
  try {
    const attributes = { keras_version: kerasVersion, backend: 'tensorflow' };
    for (const [name, value] of Object.entries({ ...attributes, model_config: JSON.stringify(modelConfig) })) h5.create_attribute(name, value);
    const weights = h5.create_group('model_weights');
    for (const [name, value] of Object.entries(attributes)) weights.create_attribute(name, value);
    weights.create_attribute('layer_names', file.layers.map((layer) => layer.name));
    for (const layer of file.layers) {
      const group = weights.create_group(layer.name);
      const names = layer.weights.map(({ name }) => `${name.startsWith(`${layer.name}/`) ? '' : `${layer.name}/`}${name.replace(/:0$/, '')}:0`);
      group.create_attribute('weight_names', names.length > 0 ? names : new Float64Array(0));
      layer.weights.forEach((weight, i) => {
        const parts = names[i]!.split('/');
        let parent = group;
        for (const part of parts.slice(0, -1)) parent = parent.keys().includes(part) ? (parent.get(part) as typeof group) : parent.create_group(part);
        parent.create_dataset({ name: parts.at(-1)!, data: weight.data, shape: weight.shape, dtype: '<f' });
      });
    }
  } finally {
    h5.close();
  }
}
