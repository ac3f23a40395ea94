// A Keras 3 functional config in tf.keras's Keras 2 layout (what tf.keras 2.x's `model.save('m.h5')` writes as
// model_config): no modules, registered names or build configs; dtypes as strings; initializers as
// `{class_name, config}` with Keras 2's options; InputLayer's `batch_input_shape`; each call a nested list of
// `[layer, node, tensor, kwargs]` entries. For the tests that load a Keras 2 model and save it as Keras 3.

type Json = Record<string, unknown>;

/** Keras 3's `{module, class_name, config, registered_name}` object (an initializer) in Keras 2's form. */
function keras2Object(value: unknown): unknown {
  if (!value || typeof value !== 'object' || Array.isArray(value) || !('module' in value)) return value;
  const { class_name, config } = value as unknown as { class_name: string; config: Json };
  if (class_name === 'DTypePolicy') return 'float32';
  // Keras 3 added the axes options to the variance-scaling initializers.
  const { input_axes: _in, output_axes: _out, ...options } = config;
  return { class_name, config: options };
}

function keras2Node(node: { args: unknown[]; kwargs: Json }): unknown[] {
  const [argument] = node.args;
  const records = (Array.isArray(argument) ? argument : [argument]) as { config: { keras_history: unknown[] } }[];
  return records.map((record) => [...record.config.keras_history, node.kwargs]);
}

export function keras2Functional(keras3: { config: { name: string; layers: Json[]; input_layers: unknown; output_layers: unknown } }): Json {
  const layers = keras3.config.layers.map((entry) => {
    const config = Object.fromEntries(Object.entries(entry.config as Json).map(([key, value]) => [key, keras2Object(value)]));
    if (entry.class_name === 'InputLayer') {
      const { batch_shape, optional: _optional, ...rest } = config;
      return { class_name: 'InputLayer', config: { batch_input_shape: batch_shape, ...rest }, name: entry.name, inbound_nodes: [] };
    }
    return { class_name: entry.class_name, config, name: entry.name, inbound_nodes: (entry.inbound_nodes as { args: unknown[]; kwargs: Json }[]).map(keras2Node) };
  });
  const { name, input_layers, output_layers } = keras3.config;
  // tf.keras lists the endpoints even for one tensor.
  const listed = (triples: unknown): unknown => (Array.isArray((triples as unknown[])[0]) ? triples : [triples]);
  return { class_name: 'Functional', config: { name, layers, input_layers: listed(input_layers), output_layers: listed(output_layers) } };
}
