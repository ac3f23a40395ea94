// WebGPU in Node (Dawn) end to end, on Chromium's SwiftShader Vulkan driver: the device choice never takes a software
// adapter, so the child accepts it explicitly to check the path itself (tfjs-backend-webgpu started from Dawn, the
// engine started on the CPU backend, outputs readable synchronously). Slow (software rendering): integration only.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { imagenetClass } from '../../src/applications/imagenet-utils';
import { fixtureConfig } from '../helpers/keras-ref';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';
const VULKAN_LOADER = ['/usr/lib/x86_64-linux-gnu', '/lib/x86_64-linux-gnu', '/usr/lib64'].some((dir) => existsSync(path.join(dir, 'libvulkan.so.1')));

describe.skipIf(!existsSync(SWIFTSHADER_ICD) || !VULKAN_LOADER)('WebGPU in Node on a software adapter', () => {
  it("MobileNet (α=0.5, 160×160, with its top) gives Keras's outputs within 1e-3 and the same top 5", async () => {
    const [builder, id] = ['MobileNet', 'alpha0.5_top_160x160'];
    // Asynchronous: a blocked worker would miss vitest's own messages for the minutes this takes.
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', path.join(ROOT, 'test/helpers/node-webgpu-software-child.ts'), builder, id], {
      cwd: ROOT,
      timeout: 300_000,
      env: { ...process.env, VK_ICD_FILENAMES: SWIFTSHADER_ICD, KERAS_APPLICATIONS_BACKEND: '' },
    });
    const result = JSON.parse(stdout.trim().split('\n').at(-1)!);
    const keras = fixtureConfig(builder, id).numerics.output.values!;
    const kerasTop5 = [...keras.keys()].sort((a, b) => keras[b]! - keras[a]!).slice(0, 5).map((i) => imagenetClass(i).classId);
    expect(result).toMatchObject({ backend: 'webgpu', engine: 'tfjs-fused', top5: kerasTop5 });
    expect(result.error).toBeLessThanOrEqual(1e-3);
  }, 300_000);
});
