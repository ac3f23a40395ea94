// Where an engine computes: the CPU or a GPU. ONNX Runtime uses a GPU through its CUDA provider, whose files come from
// onnxruntime-node's install script (not the npm package); the tfjs engines compute where the tfjs backend does.
import * as tf from '@tensorflow/tfjs-core';
import { getBackendChoice } from '../backend';
import { probeWebGpu } from '../backend/browser';
import { isNode } from '../env';

export type Device = 'cpu' | 'gpu';
export type DeviceChoice = 'auto' | Device;
export const DEVICES: readonly DeviceChoice[] = ['auto', 'cpu', 'gpu'];

/** What a GPU path lacks here, for messages: undefined when it can start. */
export async function onnxCudaProblem(): Promise<string | undefined> {
  if (!isNode()) return 'ONNX Runtime for Node runs only in Node.js';
  const [{ createRequire }, { existsSync }, path] = await Promise.all([import('node:module'), import('node:fs'), import('node:path')]);
  let packageJson: string;
  try {
    packageJson = createRequire(import.meta.url).resolve('onnxruntime-node/package.json');
  } catch {
    return 'onnxruntime-node is not installed (`npm install onnxruntime-node`)';
  }
  const library = process.platform === 'win32' ? 'onnxruntime_providers_cuda.dll' : 'libonnxruntime_providers_cuda.so';
  const bin = path.join(path.dirname(packageJson), 'bin', 'napi-v6', process.platform, process.arch);
  if (!existsSync(path.join(bin, library))) {
    return (
      `onnxruntime-node's CUDA provider is not installed (${library} is not in ${bin}): on a machine with an NVIDIA ` +
      'GPU and CUDA 12, reinstall it with `ONNXRUNTIME_NODE_INSTALL_CUDA=v12 npm install onnxruntime-node`'
    );
  }
  // The provider loads only with an NVIDIA driver; without one, trying it prints ONNX Runtime's own error lines.
  if (process.platform === 'linux' && !existsSync('/proc/driver/nvidia/version')) return 'no NVIDIA driver is loaded (/proc/driver/nvidia/version is missing)';
  return undefined;
}

/**
 * What ONNX Runtime's WebGPU provider lacks in this browser: no adapter, or (when the device was not named) the
 * trust 'auto' needs: on SwiftShader it gave Xception's outputs 13% away from Keras's where every other path in the
 * browser was within 1e-6 (docs/performance.md, "Browser"), so only `engine: 'onnxruntime', device: 'gpu'` uses it.
 */
export async function onnxWebGpuProblem(autoDevice: boolean): Promise<string | undefined> {
  const adapter = await probeWebGpu();
  if (!adapter.available) return adapter.description;
  if (autoDevice) {
    return (
      "onnxruntime-web's WebGPU provider is used only when asked for (engine: 'onnxruntime', device: 'gpu'): it computed " +
      "Xception 13% away from Keras's outputs (measured on SwiftShader)"
    );
  }
  return undefined;
}

/** The device the tfjs engines compute on: that of the backend they run on. */
export function tfjsDevice(): Device {
  // The package's own choice names tfjs-node-gpu apart from tfjs-node (both are tfjs's 'tensorflow' backend).
  const chosen = getBackendChoice()?.tried.filter((attempt) => attempt.ok).at(-1)?.name;
  const backend = chosen ?? tf.getBackend();
  return backend === 'tensorflow-gpu' || backend === 'webgl' || backend === 'webgpu' ? 'gpu' : 'cpu';
}
