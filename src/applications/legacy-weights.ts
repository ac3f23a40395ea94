// The official files of the builders older Keras shipped and Keras 3 dropped (RegNet, ResNetRS from tf-keras,
// ResNeXt from keras_applications 1.0.8), read from their own manifest: officialWeights() reads only Keras 3's.
import manifest from './legacy-weights-manifest.json';
import { fileRef, type OfficialWeights } from './official-weights';

interface LegacyVariant {
  weights_arg: string;
  top_file: string;
  top_hash: string;
  notop_file: string;
  notop_hash: string;
}

interface LegacyEntry {
  builder: string;
  base_url: string;
  top_file: string;
  top_hash: string;
  notop_file: string;
  notop_hash: string;
  variants?: LegacyVariant[];
}

function entryFor(builder: string): LegacyEntry {
  const found = (manifest as LegacyEntry[]).find((entry) => entry.builder === builder);
  if (!found) throw new Error(`no legacy weights listed for ${builder}`);
  return found;
}

/** The default official files of a legacy builder (for ResNetRS: its largest training resolution). */
export function legacyWeights(builder: string): OfficialWeights {
  const { base_url: base, top_file, top_hash, notop_file, notop_hash } = entryFor(builder);
  return { top: fileRef(base, top_file, top_hash), notop: fileRef(base, notop_file, notop_hash) };
}

/** ResNetRS's files per training resolution, keyed by the `weights` value that picks them (`'imagenet-i160'`). */
export function legacyWeightVariants(builder: string): Record<string, OfficialWeights> {
  const { base_url: base, variants = [] } = entryFor(builder);
  return Object.fromEntries(
    variants.map((v) => [v.weights_arg, { top: fileRef(base, v.top_file, v.top_hash), notop: fileRef(base, v.notop_file, v.notop_hash) }]),
  );
}
