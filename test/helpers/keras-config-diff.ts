// Compares a config.json we write with the one Keras writes for the same model. Equal but for what the issue
// allows: `compile_config` (Keras's compile state; we write none), automatically numbered names (`input_layer`
// vs `input_layer_2`: Keras numbers them per process) and the value of `shared_object_id` (a Python `id()`;
// only which objects share one matters). Every other difference is listed, by its JSON path.

/** Keras's automatic names: the class in snake case, optionally numbered. */
const AUTO_NAME = /^([a-z0-9]+(?:_[a-z0-9]+)*?)(?:_\d+)?$/;

function autoBase(name: string): string | undefined {
  return AUTO_NAME.exec(name)?.[1];
}

export interface Allowances {
  /**
   * The Keras config was written by Keras 3.15.1 (test/fixtures/keras-save), ours is what 3.16 writes: 3.15 records
   * `training: false` in Dropout calls and keeps LayerNormalization's negative axes, 3.16 does neither (seen by
   * saving the reference models of test/fixtures/keras-ref/models, made by 3.16, again with 3.15.1).
   */
  keras315?: boolean;
  /**
   * Our builders leave tfjs's default kernel initializer (Glorot normal) where Keras's layers default to Glorot
   * uniform; counted in `allowed`, not listed as differences.
   */
  tfjsDefaultInitializers?: boolean;
}

type Json = Record<string, unknown>;

/** Keras 3.15's config brought to what 3.16 writes for the same model. */
function asKeras316(config: unknown): unknown {
  const visit = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(visit);
    if (!value || typeof value !== 'object') return value;
    const entry = Object.fromEntries(Object.entries(value as Json).map(([k, v]) => [k, visit(v)])) as Json;
    if (entry.class_name === 'Dropout' && Array.isArray(entry.inbound_nodes)) {
      for (const node of entry.inbound_nodes as { kwargs: Json }[]) if (node.kwargs.training === false) delete node.kwargs.training;
    }
    const shape = (entry.build_config as { input_shape?: unknown[] } | undefined)?.input_shape;
    if (entry.class_name === 'LayerNormalization' && Array.isArray(shape)) {
      const config = entry.config as { axis: number[] };
      config.axis = config.axis.map((axis) => (axis < 0 ? axis + shape.length : axis));
    }
    return entry;
  };
  return visit(config);
}

/** The differences (JSON paths) between our config and Keras's, and how many allowed ones were passed over. */
export function configDifferences(ours: unknown, kerasConfig: unknown, allow: Allowances = {}, limit = 20): { differences: string[]; allowed: number } {
  const keras = allow.keras315 ? asKeras316(kerasConfig) : kerasConfig;
  const differences: string[] = [];
  let allowed = 0;
  const names = new Map<string, string>();
  const ids = new Map<unknown, unknown>();
  const sameName = (a: unknown, b: unknown): boolean => {
    if (a === b) return true;
    if (typeof a !== 'string' || typeof b !== 'string') return false;
    const known = names.get(b);
    if (known !== undefined) return known === a;
    // Only names Keras made up itself: both automatic names of the same class.
    if (autoBase(a) === undefined || autoBase(a) !== autoBase(b) || !/_\d+$/.test(a + b)) return false;
    names.set(b, a);
    return true;
  };
  const visit = (a: unknown, b: unknown, path: string, key: string): void => {
    if (differences.length >= limit) return;
    if (allow.tfjsDefaultInitializers && key.endsWith('_initializer')) {
      const [a1, b1] = [a as Json, b as Json];
      if (a1?.class_name === 'GlorotNormal' && b1?.class_name === 'GlorotUniform' && JSON.stringify(a1.config) === JSON.stringify(b1.config)) {
        allowed++;
        return;
      }
    }
    if (key === 'shared_object_id') {
      const known = ids.get(b);
      if (known === undefined && typeof a === 'number') ids.set(b, a);
      else if (known !== a) differences.push(`${path}: shared object ${String(a)} where Keras shares ${String(b)}`);
      return;
    }
    const namesLayer = key === 'name' || (key === '0' && /(keras_history|input_layers|output_layers)(\[\d+\])?$/.test(path.replace(/\[0\]$/, '')));
    if (namesLayer && typeof b === 'string') {
      if (!sameName(a, b)) differences.push(`${path}: ${JSON.stringify(a)}, Keras ${JSON.stringify(b)}`);
      return;
    }
    if (Array.isArray(a) && Array.isArray(b)) {
      if (a.length !== b.length) differences.push(`${path}: ${a.length} items, Keras ${b.length}`);
      else a.forEach((item, i) => visit(item, b[i], `${path}[${i}]`, String(i)));
      return;
    }
    if (a && b && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a) && !Array.isArray(b)) {
      const ao = a as Record<string, unknown>;
      const bo = b as Record<string, unknown>;
      for (const k of new Set([...Object.keys(ao), ...Object.keys(bo)])) {
        if (k === 'compile_config') continue;
        if (!(k in ao)) differences.push(`${path}.${k}: missing, Keras ${JSON.stringify(bo[k])?.slice(0, 120)}`);
        else if (!(k in bo)) differences.push(`${path}.${k}: ${JSON.stringify(ao[k])?.slice(0, 120)}, Keras has none`);
        else visit(ao[k], bo[k], `${path}.${k}`, k);
      }
      return;
    }
    if (a !== b) differences.push(`${path}: ${JSON.stringify(a)?.slice(0, 120)}, Keras ${JSON.stringify(b)?.slice(0, 120)}`);
  };
  visit(ours, keras, '$', '');
  return { differences, allowed };
}
