// WebGPU in Node through the `webgpu` package (Dawn, on Vulkan): a GPU path for device 'auto' and 'gpu' that never
// takes a software renderer for a GPU. This machine has no GPU; the Vulkan drivers each case offers Dawn are chosen
// with VK_ICD_FILENAMES, in a child process per case. With libvulkan1 (Debian) Dawn loads Vulkan; without it, the
// reason names the missing loader.
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';
const LAVAPIPE_ICD = '/usr/share/vulkan/icd.d/lvp_icd.x86_64.json';
/** Whether the system's dynamic linker knows the Vulkan loader, asked of ldconfig rather than of our own check. */
const VULKAN_LOADER = /\blibvulkan\.so\.1\b/.test(execFileSync('/sbin/ldconfig', ['-p'], { encoding: 'utf8' }));
const NO_LOADER = "libvulkan.so.1 (the Vulkan loader Dawn needs) is not installed: `apt-get install libvulkan1`";
const PREFIX =
  "ArgumentError: engine 'tfjs-fused' and device 'gpu' cannot run here: tfjs-fused on the gpu: the tfjs backend 'wasm' computes on the cpu " +
  '(a GPU needs tfjs-node-gpu, or WebGL/WebGPU in a browser), and WebGPU in Node (npm install webgpu @tensorflow/tfjs-backend-webgpu) did not start: ';

/** Runs the child with the Vulkan drivers `icd` names (undefined: the system's own, as a user runs). */
async function withVulkanDrivers(icd: string | undefined): Promise<{ gpu: string; auto: string; backend: string; stderr: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, KERAS_APPLICATIONS_BACKEND: '' };
  delete env['VK_ICD_FILENAMES'];
  delete env['VK_DRIVER_FILES'];
  if (icd !== undefined) env['VK_ICD_FILENAMES'] = icd;
  const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--import', 'tsx', path.join(ROOT, 'test/helpers/node-webgpu-child.ts')], {
    cwd: ROOT,
    timeout: 60_000,
    env,
  });
  return { ...JSON.parse(stdout.trim().split('\n').at(-1)!), stderr };
}

const GPU_DEVICE = existsSync('/dev/nvidia0') || (existsSync('/dev/dri') && readdirSync('/dev/dri').some((name) => name.startsWith('renderD')));

describe('WebGPU in Node (Dawn)', () => {
  it('without a Vulkan driver: skipped, naming what is missing; auto predicts on the CPU', async () => {
    const result = await withVulkanDrivers('/nonexistent/icd.json');
    expect(result.gpu.startsWith(PREFIX)).toBe(true);
    expect(result.gpu.slice(PREFIX.length)).toMatch(
      VULKAN_LOADER ? /^Dawn \(the webgpu package\) found no WebGPU adapter: no Vulkan driver here offers a GPU/ : new RegExp(`^${escape(NO_LOADER)}`),
    );
    expect(result).toMatchObject({ auto: 'onnxruntime', backend: 'wasm' });
  });

  it.skipIf(GPU_DEVICE || !VULKAN_LOADER)('on a machine with no GPU device, Dawn is not started (its Vulkan warnings never reach stderr)', async () => {
    const result = await withVulkanDrivers(undefined);
    expect(result.gpu.slice(PREFIX.length)).toBe('no GPU device here (no /dev/dri/renderD* and no /dev/nvidia0), so Dawn was not started');
    expect(result.stderr).not.toMatch(/vulkan|XDG_RUNTIME_DIR/i);
    expect(result).toMatchObject({ auto: 'onnxruntime', backend: 'wasm' });
  });

  it.skipIf(!existsSync(SWIFTSHADER_ICD))("SwiftShader (Chromium's software Vulkan) is not a GPU", async () => {
    const result = await withVulkanDrivers(SWIFTSHADER_ICD);
    expect(result.gpu.slice(PREFIX.length)).toMatch(
      VULKAN_LOADER ? /^Dawn's adapter is a software renderer \(SwiftShader driver [\d.]+\), not a GPU$/ : new RegExp(`^${escape(NO_LOADER)}`),
    );
    expect(result).toMatchObject({ auto: 'onnxruntime', backend: 'wasm' });
  });

  it.skipIf(!existsSync(LAVAPIPE_ICD))("lavapipe (Mesa's software Vulkan) is not a GPU", async () => {
    const result = await withVulkanDrivers(LAVAPIPE_ICD);
    // Dawn refuses Debian 12's lavapipe (it lacks shaderUniform*ArrayDynamicIndexing); a newer one is named llvmpipe.
    expect(result.gpu.slice(PREFIX.length)).toMatch(/^(Dawn \(the webgpu package\) found no WebGPU adapter|Dawn's adapter is a software renderer \(.*llvmpipe.*\), not a GPU)/);
    expect(result).toMatchObject({ auto: 'onnxruntime', backend: 'wasm' });
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
