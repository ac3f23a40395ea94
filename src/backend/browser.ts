// What a browser offers the GPU backends before tfjs starts them: whether WebGPU and WebGL run on a GPU or on a
// software rasteriser (SwiftShader, llvmpipe, lavapipe: slower than tfjs's wasm backend, so ranked below it), and
// where the wasm backend's binaries are served.

/** Renderer names of software adapters and drivers, as WebGPU's adapter info and WebGL's renderer string give them. */
const SOFTWARE = /swiftshader|llvmpipe|lavapipe|softpipe|software|microsoft basic render/i;

export interface GpuProbe {
  /** False when the browser offers no adapter or context at all. */
  available: boolean;
  /** The adapter or renderer, as the browser names it; or why there is none. */
  description: string;
  /** A software adapter (a fallback adapter or a software rasteriser). */
  software: boolean;
}

interface AdapterInfo {
  vendor?: string;
  architecture?: string;
  description?: string;
  device?: string;
  isFallbackAdapter?: boolean;
}

interface GpuAdapter {
  info?: AdapterInfo;
  isFallbackAdapter?: boolean;
  requestAdapterInfo?: () => Promise<AdapterInfo>;
}

/** navigator.gpu's adapter: the one tfjs-backend-webgpu and onnxruntime-web's WebGPU provider will get. */
export async function probeWebGpu(): Promise<GpuProbe> {
  const gpu = (globalThis as { navigator?: { gpu?: { requestAdapter(options?: object): Promise<GpuAdapter | null> } } }).navigator?.gpu;
  if (!gpu) return unavailable('navigator.gpu is missing (WebGPU needs a browser that has it and a secure context: https or 127.0.0.1)');
  let adapter: GpuAdapter | null;
  try {
    adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  } catch (err) {
    return unavailable(`navigator.gpu.requestAdapter() failed: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (!adapter) return unavailable('navigator.gpu.requestAdapter() found no adapter');
  // Chromium has `info` (the older requestAdapterInfo() is gone); isFallbackAdapter moved from the adapter into it.
  const info = adapter.info ?? (await adapter.requestAdapterInfo?.().catch(() => undefined)) ?? {};
  const description = [info.vendor, info.architecture, info.device, info.description].filter((part) => part).join(' ') || 'an adapter that does not name itself';
  const fallback = adapter.isFallbackAdapter === true || info.isFallbackAdapter === true;
  return { available: true, description: fallback ? `${description} (fallback adapter)` : description, software: fallback || SOFTWARE.test(description) };
}

interface GlContext {
  RENDERER: number;
  getParameter(name: number): unknown;
  getExtension(name: string): { UNMASKED_RENDERER_WEBGL?: number; loseContext?: () => void } | null;
}

/** The renderer of a WebGL context: the one tfjs-backend-webgl's context will get. */
export function probeWebGl(): GpuProbe {
  const scope = globalThis as { OffscreenCanvas?: new (w: number, h: number) => { getContext(kind: string): unknown }; document?: { createElement(tag: string): { getContext(kind: string): unknown } } };
  const canvas = scope.OffscreenCanvas ? new scope.OffscreenCanvas(1, 1) : scope.document?.createElement('canvas');
  if (!canvas) return unavailable('no canvas to make a WebGL context on');
  const gl = (canvas.getContext('webgl2') ?? canvas.getContext('webgl')) as GlContext | null;
  if (!gl) return unavailable('the browser gives no WebGL context (GPU blocked or disabled)');
  const debug = gl.getExtension('WEBGL_debug_renderer_info');
  const description = String(gl.getParameter(debug?.UNMASKED_RENDERER_WEBGL ?? gl.RENDERER));
  gl.getExtension('WEBGL_lose_context')?.loseContext?.();
  return { available: true, description, software: SOFTWARE.test(description) };
}

function unavailable(description: string): GpuProbe {
  return { available: false, description, software: false };
}

/**
 * The folder of tfjs-backend-wasm's module as the page resolves it (its import map), where its .wasm files lie;
 * undefined in a bundle, where import.meta.resolve is absent and the application calls setWasmPaths().
 */
export function resolvedWasmFolder(pkg: string): string | undefined {
  const resolve = (import.meta as { resolve?: (specifier: string) => string }).resolve;
  if (typeof resolve !== 'function') return undefined;
  try {
    return new URL('./', resolve(pkg)).href;
  } catch {
    return undefined;
  }
}

/** Whether the page may share memory with workers, which tfjs's and onnxruntime-web's wasm threads need. */
export function crossOriginIsolated(): boolean {
  return (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true;
}
