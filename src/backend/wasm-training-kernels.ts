// tfjs's wasm backend has no kernels for the gradients of a convolution's filter (or of a depthwise
// convolution's input), so `fit` stops with "Kernel 'Conv2DBackpropFilter' not registered for backend 'wasm'"
// as soon as a convolution is trainable: fine-tuning the top blocks of any base fails on the default backend.
// The depthwise ones are borrowed from the cpu backend, operands copied across. The cpu backend's
// Conv2DBackpropFilter reads every element through TensorBuffer.get (seconds for one of MobileNet's 1×1
// convolutions on 16 images: bench/wasm-training-kernels.ts), so that one is a plain typed-array loop here.
// Training only: inference never calls them. A kernel the wasm backend gains in a later tfjs is left alone.
import * as tf from '@tensorflow/tfjs-core';
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';

/** The kernels the wasm backend gets from this module. */
export const WASM_TRAINING_KERNELS = ['Conv2DBackpropFilter', 'DepthwiseConv2dNativeBackpropFilter', 'DepthwiseConv2dNativeBackpropInput'] as const;

/** What the wasm backend offers a kernel, beyond tfjs-core's KernelBackend typings. */
interface WasmBackend extends tf.KernelBackend {
  makeOutput(shape: number[], dtype: tf.DataType, memoryOffset?: number, values?: tf.backend_util.BackendValues): tf.TensorInfo;
}

let cpu: MathBackendCPU | undefined;

/** The cpu backend's kernel run on copies of the operands. */
function borrowedKernel(kernelName: string): tf.KernelFunc | undefined {
  const cpuKernel = tf.getKernel(kernelName, 'cpu');
  if (!cpuKernel) return undefined;
  return ({ inputs, attrs, backend }) => {
    const wasm = backend as WasmBackend;
    if (!cpu) {
      cpu = new MathBackendCPU();
      // Its first write advises installing tfjs-node, advice for applications that chose the cpu backend.
      (cpu as unknown as { firstUse: boolean }).firstUse = false;
    }
    const cpuInputs: tf.NamedTensorInfoMap = {};
    for (const [name, info] of Object.entries(inputs) as [string, tf.TensorInfo][]) {
      cpuInputs[name] = { ...info, dataId: cpu.write(wasm.readSync(info.dataId), info.shape, info.dtype) };
    }
    const result = cpuKernel.kernelFunc({ inputs: cpuInputs, attrs, backend: cpu }) as tf.TensorInfo;
    const output = wasm.makeOutput(result.shape, result.dtype, undefined, cpu.readSync(result.dataId));
    for (const info of [...(Object.values(cpuInputs) as tf.TensorInfo[]), result]) cpu.disposeData(info.dataId, true);
    return output;
  };
}

/**
 * dFilter[kh, kw, ci, co] = Σ x[n, y·s + kh·d - pad, x·s + kw·d - pad, ci] · dy[n, y, x, co], channels last,
 * summed in float64. The innermost loop runs along `co`, contiguous in both dy and dFilter.
 */
function conv2dBackpropFilter(x: Float32Array, dy: Float32Array, info: tf.backend_util.Conv2DInfo): Float32Array {
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels, padInfo } = info;
  const { strideHeight, strideWidth, dilationHeight, dilationWidth, filterHeight, filterWidth } = info;
  const dFilter = new Float64Array(filterHeight * filterWidth * inChannels * outChannels);
  for (let n = 0; n < batchSize; n++) {
    for (let yRow = 0; yRow < outHeight; yRow++) {
      for (let yCol = 0; yCol < outWidth; yCol++) {
        const dyOffset = ((n * outHeight + yRow) * outWidth + yCol) * outChannels;
        for (let kh = 0; kh < filterHeight; kh++) {
          const xRow = yRow * strideHeight - padInfo.top + kh * dilationHeight;
          if (xRow < 0 || xRow >= inHeight) continue;
          for (let kw = 0; kw < filterWidth; kw++) {
            const xCol = yCol * strideWidth - padInfo.left + kw * dilationWidth;
            if (xCol < 0 || xCol >= inWidth) continue;
            const xOffset = ((n * inHeight + xRow) * inWidth + xCol) * inChannels;
            const filterOffset = (kh * filterWidth + kw) * inChannels * outChannels;
            for (let ci = 0; ci < inChannels; ci++) {
              const xValue = x[xOffset + ci]!;
              if (xValue === 0) continue; // after a ReLU, most are
              const row = filterOffset + ci * outChannels;
              for (let co = 0; co < outChannels; co++) dFilter[row + co]! += xValue * dy[dyOffset + co]!;
            }
          }
        }
      }
    }
  }
  return Float32Array.from(dFilter);
}

function conv2dBackpropFilterKernel(fallback: tf.KernelFunc | undefined): tf.KernelFunc {
  return (args) => {
    const { inputs, attrs, backend } = args;
    const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as unknown as tf.Conv2DBackpropFilterAttrs;
    const { x, dy } = inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
    if (dataFormat !== 'NHWC' && fallback) return fallback(args);
    const wasm = backend as WasmBackend;
    const info = tf.backend_util.computeConv2DInfo(
      x.shape as [number, number, number, number], filterShape, strides, 1, pad, dimRoundingMode, false, 'channelsLast',
    );
    const values = conv2dBackpropFilter(wasm.readSync(x.dataId) as Float32Array, wasm.readSync(dy.dataId) as Float32Array, info);
    return wasm.makeOutput(filterShape, 'float32', undefined, values);
  };
}

function register(kernelName: string, kernelFunc: tf.KernelFunc | undefined): void {
  if (!tf.getKernel(kernelName, 'wasm') && kernelFunc) tf.registerKernel({ kernelName, backendName: 'wasm', kernelFunc });
}

register('Conv2DBackpropFilter', conv2dBackpropFilterKernel(borrowedKernel('Conv2DBackpropFilter')));
register('DepthwiseConv2dNativeBackpropFilter', borrowedKernel('DepthwiseConv2dNativeBackpropFilter'));
register('DepthwiseConv2dNativeBackpropInput', borrowedKernel('DepthwiseConv2dNativeBackpropInput'));
