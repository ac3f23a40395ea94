// The deterministic weight/input generator of test/fixtures/keras-ref/README.md ("Generator spec").

export function fnv1a32(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(text)) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

export function fmix32(x: number): number {
  x = x >>> 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b) >>> 0;
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35) >>> 0;
  x ^= x >>> 16;
  return x >>> 0;
}

export function unit(seed: number, i: number): number {
  return (fmix32((seed ^ i) >>> 0) >>> 8) / 2 ** 24;
}

export function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** `uniform(name, shape, lo, hi)`: row-major values, computed in float64, rounded once to float32. */
export function uniform(name: string, shape: readonly number[], lo: number, hi: number): Float32Array {
  const seed = fnv1a32(name);
  const out = new Float32Array(sizeOf(shape));
  for (let i = 0; i < out.length; i++) out[i] = lo + (hi - lo) * unit(seed, i);
  return out;
}

/** The generated model input, `uniform("input", shape, 0, 255)`. */
export function generatedInput(shape: readonly number[]): Float32Array {
  return uniform('input', shape, 0, 255);
}

/** Flat indices of the `k` stored samples of a tensor of `size` elements. */
export function sampleIndices(size: number, k: number): number[] {
  const seed = fnv1a32('sample');
  return Array.from({ length: k }, (_, j) => fmix32((seed ^ j) >>> 0) % size);
}

const DEPTHWISE_CLASSES = new Set(['DepthwiseConv2D', 'DepthwiseConv1D']);
const KERNEL_NAMES = new Set(['kernel', 'depthwise_kernel', 'pointwise_kernel']);

/**
 * The generated value of one Keras weight, by the range table of the spec.
 * `path` is the full Keras weight path, `ownerClass` the Keras class owning the weight.
 */
export function generatedWeight(path: string, shape: readonly number[], ownerClass: string): Float32Array {
  const last = path.slice(path.lastIndexOf('/') + 1);
  if (ownerClass === 'Normalization') {
    if (last === 'mean') return Float32Array.from([0.485, 0.456, 0.406]);
    if (last === 'variance') return Float32Array.from([0.229 ** 2, 0.224 ** 2, 0.225 ** 2]);
    if (last === 'count') return new Float32Array(sizeOf(shape));
  }
  if (KERNEL_NAMES.has(last)) {
    const depthwise = last === 'depthwise_kernel' || DEPTHWISE_CLASSES.has(ownerClass);
    const fanIn = depthwise ? sizeOf(shape.slice(0, -2)) : sizeOf(shape.slice(0, -1));
    const limit = Math.sqrt(3 / fanIn);
    return uniform(path, shape, -limit, limit);
  }
  if (last === 'bias') return uniform(path, shape, -0.05, 0.05);
  if (last === 'gamma' || last === 'moving_variance') return uniform(path, shape, 0.8, 1.2);
  if (last === 'beta' || last === 'moving_mean') return uniform(path, shape, -0.1, 0.1);
  if (ownerClass === 'LayerScale' || /^variable(_\d+)?$/.test(last)) return uniform(path, shape, 0.5, 1.0);
  throw new Error(`generator: no range for weight ${path} of ${ownerClass}`);
}
