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
