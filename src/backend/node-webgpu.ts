// WebGPU in Node: the optional `webgpu` npm package (Dawn, on Vulkan in Linux) provides navigator.gpu, on which
// tfjs-backend-webgpu runs the tfjs engines: the one GPU path that installs from npm alone. A software adapter
// (SwiftShader, lavapipe/llvmpipe, a fallback adapter) is never taken for a GPU: it is far slower than the CPU engines.
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { isNode } from '../env';
import type { Predictor } from '../inference/types';
import { BACKEND_ENV_VAR, describeImportError, getBackendChoice, importOptional, readEnv, selectBackend } from './index';

const DAWN_PACKAGE = 'webgpu';
const WEBGPU_BACKEND_PACKAGE = '@tensorflow/tfjs-backend-webgpu';

/** The parts of a WebGPU adapter read here (as @webgpu/types names them). */
interface Adapter {
  readonly isFallbackAdapter?: boolean;
  readonly info?: { vendor?: string; architecture?: string; device?: string; description?: string; isFallbackAdapter?: boolean };
}
interface Gpu {
  requestAdapter(options?: { powerPreference?: 'high-performance' | 'low-power' }): Promise<Adapter | null>;
}
interface Dawn {
  create(options: string[]): Gpu;
  globals: Record<string, unknown>;
}

export interface NodeWebGpuOptions {
  /** Accept a software adapter too: for benchmarks that measure one, never for the device choice. */
  software?: boolean;
}

let started: Promise<string | undefined> | undefined;
/** The backend in use before 'webgpu' (wasm, cpu): where engines start, reading tensors synchronously. */
let cpuBackend: string | undefined;

/**
 * Starts tfjs's 'webgpu' backend on Dawn when its adapter is a GPU. Resolves to why it cannot (undefined once the
 * backend runs); tried once per process.
 */
export function useNodeWebGpu(options: NodeWebGpuOptions = {}): Promise<string | undefined> {
  started ??= start(options);
  return started;
}

async function start(options: NodeWebGpuOptions): Promise<string | undefined> {
  if (!isNode()) return 'the webgpu package (Dawn) runs only in Node.js';
  // A backend the user chose stays: the GPU is then theirs to ask for (KERAS_APPLICATIONS_BACKEND=webgpu).
  const forced = readEnv(BACKEND_ENV_VAR);
  if (forced !== undefined) return `${BACKEND_ENV_VAR}=${forced} chose the tfjs backend`;
  if (getBackendChoice()?.tried.some((attempt) => attempt.reason === 'already set by the application')) {
    return 'the application set the tfjs backend';
  }
  const dawn = await importOrWhy<Dawn>(DAWN_PACKAGE);
  if (typeof dawn === 'string') return dawn;
  const vulkanMissing = await vulkanLoaderMissing();
  if (vulkanMissing) return vulkanMissing;
  const noDevice = await gpuDeviceMissing();
  if (noDevice) return noDevice;
  const gpu = dawn.create([]);
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) {
    return (
      'Dawn (the webgpu package) found no WebGPU adapter: no Vulkan driver here offers a GPU it can use ' +
      "(Dawn's warnings on stderr say why), and NVIDIA's driver packages include its Vulkan driver"
    );
  }
  const software = softwareAdapter(adapter);
  if (software && !options.software) return `Dawn's adapter is a software renderer (${software}), not a GPU`;
  // tfjs-backend-webgpu registers its backend on import when navigator.gpu exists, and uses the GPU* constants.
  for (const [name, value] of Object.entries(dawn.globals)) if (!(name in globalThis)) Object.assign(globalThis, { [name]: value });
  const global = globalThis as { navigator?: { gpu?: Gpu } };
  if (global.navigator === undefined) global.navigator = { gpu };
  else Object.defineProperty(global.navigator, 'gpu', { value: gpu, configurable: true });
  const backend = await importOrWhy(WEBGPU_BACKEND_PACKAGE);
  if (typeof backend === 'string') return backend;
  const before = tf.getBackend();
  const choice = await selectBackend({ prefer: 'webgpu' }).catch((err: unknown) => err);
  if (choice instanceof Error) return choice.message;
  cpuBackend = before;
  return undefined;
}

/**
 * tfjs-backend-webgpu reads synchronously (dataSync) only through OffscreenCanvas, which Node lacks, and keeps on the CPU
 * a value it has read once asynchronously. On that backend in Node, `start` (BatchNormalization folding, the ONNX export:
 * synchronous reads of the weights and of tensors computed from them) runs on the CPU backend used before, once the
 * weights are read so, and the predictor's outputs are read so too (decodePredictions and the user's dataSync).
 * Elsewhere, `start`'s predictor as it is.
 */
export async function readableOnNodeWebGpu(model: tfl.LayersModel, start: () => Predictor | Promise<Predictor>): Promise<Predictor> {
  if (!isNode() || tf.getBackend() !== 'webgpu' || cpuBackend === undefined) return start();
  await Promise.all(model.weights.map((weight) => weight.read().data()));
  let predictor: Predictor;
  await tf.setBackend(cpuBackend);
  try {
    predictor = await start();
  } finally {
    await tf.setBackend('webgpu');
  }
  return {
    ...predictor,
    async predict(x) {
      const output = await predictor.predict(x);
      await Promise.all((Array.isArray(output) ? output : [output]).map((tensor) => tensor.data()));
      return output;
    },
  };
}

/** What names `adapter` a software renderer, or undefined for a hardware one. */
function softwareAdapter(adapter: Adapter): string | undefined {
  const { vendor = '', architecture = '', device = '', description = '' } = adapter.info ?? {};
  const named = [description, architecture, device, vendor].find((text) => /swiftshader|llvmpipe|lavapipe|software/i.test(text));
  if (named) return named;
  if (adapter.isFallbackAdapter || adapter.info?.isFallbackAdapter) return 'a fallback adapter';
  return undefined;
}

/** On Linux, why Dawn cannot load Vulkan: libvulkan.so.1 is in none of the usual library folders. */
async function vulkanLoaderMissing(): Promise<string | undefined> {
  if (process.platform !== 'linux') return undefined;
  const [{ existsSync }, path] = await Promise.all([import('node:fs'), import('node:path')]);
  const triplet = { x64: 'x86_64-linux-gnu', arm64: 'aarch64-linux-gnu' }[process.arch as string] ?? '';
  const folders = [...(process.env['LD_LIBRARY_PATH'] ?? '').split(':'), `/usr/lib/${triplet}`, `/lib/${triplet}`, '/usr/lib64', '/lib64', '/usr/lib', '/lib'];
  if (folders.some((folder) => folder && existsSync(path.join(folder, 'libvulkan.so.1')))) return undefined;
  return "libvulkan.so.1 (the Vulkan loader Dawn needs) is not installed: `apt-get install libvulkan1` on Debian/Ubuntu, with the GPU's Vulkan driver (NVIDIA's driver packages include it)";
}

/**
 * On Linux, why there is no GPU for Dawn to find: no DRM render node and no NVIDIA device file, and no Vulkan driver
 * named by the user (VK_ICD_FILENAMES / VK_DRIVER_FILES). Asked before Dawn starts, because Dawn prints its Vulkan
 * warnings straight to stderr, into the output of every command on a machine without a GPU.
 */
async function gpuDeviceMissing(): Promise<string | undefined> {
  if (process.platform !== 'linux' || process.env['VK_ICD_FILENAMES'] || process.env['VK_DRIVER_FILES']) return undefined;
  const { existsSync, readdirSync } = await import('node:fs');
  const renderNodes = existsSync('/dev/dri') ? readdirSync('/dev/dri').filter((name) => name.startsWith('renderD')) : [];
  if (renderNodes.length > 0 || existsSync('/dev/nvidia0')) return undefined;
  return 'no GPU device here (no /dev/dri/renderD* and no /dev/nvidia0), so Dawn was not started';
}

/** The package, or why it cannot be imported (with the command that installs it). */
async function importOrWhy<T>(pkg: string): Promise<T | string> {
  try {
    return (await importOptional(pkg)) as T;
  } catch (err) {
    return describeImportError(pkg, err);
  }
}
