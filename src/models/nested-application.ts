// Which keras.applications models a loaded model holds (a transfer model's frozen base, or a saved builder
// model itself), recognised by the name Keras's builders give their model, so that `classify` can take the
// preprocessing from it.
import type * as tfl from '@tensorflow/tfjs-layers';
import { applications } from '../applications/registry';
import type { ApplicationEntry } from '../applications/application-entry';

/** A model name compared without case and punctuation: `inception_v3` and `InceptionV3` are one name. */
function normalized(name: string): string {
  // MobileNet and MobileNetV2 name their model `mobilenetv2_<alpha>_<rows>` (`mobilenetv2_0.35_96`).
  return name.replace(/^(mobilenet(?:v2)?)_\d+\.\d+_(?:\d+|None)$/i, '$1').toLowerCase().replace(/[^a-z0-9]/g, '');
}

const IMAGE_APPLICATIONS = new Map(
  Object.values(applications as Record<string, { kind: string }>)
    .filter((entry): entry is ApplicationEntry => entry.kind === 'image')
    .map((entry) => [normalized(entry.kerasName), entry]),
);

/** The registry entries of `model` and of the models nested in it, through every level, found by their Keras names. */
export function nestedApplications(model: tfl.LayersModel): ApplicationEntry[] {
  const found = new Set<ApplicationEntry>();
  const visit = (layer: tfl.layers.Layer): void => {
    const inner = (layer as tfl.LayersModel).layers;
    if (!Array.isArray(inner)) return;
    const entry = IMAGE_APPLICATIONS.get(normalized(layer.name));
    if (entry) found.add(entry);
    inner.forEach(visit);
  };
  visit(model);
  return [...found];
}
