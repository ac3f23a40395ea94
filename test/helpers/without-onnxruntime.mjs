// A Node module hook for child processes: onnxruntime-node resolves as not installed, as in a project without it.
export async function resolve(specifier, context, nextResolve) {
  if (specifier === 'onnxruntime-node' || specifier.startsWith('onnxruntime-node/')) {
    const error = new Error(`Cannot find package 'onnxruntime-node' imported from ${context.parentURL}`);
    error.code = 'ERR_MODULE_NOT_FOUND';
    throw error;
  }
  return nextResolve(specifier, context);
}
