// Keras's outputs in headless Chromium on every backend and engine the browser offers: for each image family, the
// smallest config of its smallest builder in the fixtures, with Keras's generated weights, built once on the page
// (bench/browser/) and predicted on tfjs's wasm, WebGL and WebGPU backends (software ones, SwiftShader, where there
// is no GPU) and on onnxruntime-web's wasm and WebGPU providers.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, startBenchBrowser, type BenchBrowser } from '../../bench/browser/chromium';
import { applications } from '../../src/applications/registry';
import { generatedInput } from '../helpers/generator';
import { writeLegacyWeights } from '../helpers/h5-writer';
import { builderOptions, generatedWeightsFile, loadFixture, outputError, type FixtureConfig } from '../helpers/keras-ref';

const chromiumMissing = !existsSync(CHROMIUM);
if (chromiumMissing && process.env.CI) throw new Error(`${CHROMIUM} is missing: .ci/run installs Debian's chromium for this test`);

interface Run {
  backend: string;
  engine: string;
  device: string;
  /** The bound: 1e-4 on the CPU (wasm), 1e-3 on a GPU backend, whose float32 arithmetic is looser. */
  bound: number;
}

const CPU_RUNS: Run[] = [
  { backend: 'wasm', engine: 'tfjs-fused', device: 'cpu', bound: 1e-4 },
  { backend: 'wasm', engine: 'onnxruntime', device: 'cpu', bound: 1e-4 },
];
// onnxruntime-web's WebGPU provider runs while tfjs is on wasm: with tfjs's WebGPU backend holding SwiftShader's
// device, Chromium gives onnxruntime-web no adapter.
const GPU_RUNS: Run[] = [
  { backend: 'wasm', engine: 'onnxruntime', device: 'gpu', bound: 1e-3 },
  { backend: 'webgl', engine: 'tfjs-fused', device: 'gpu', bound: 1e-3 },
  { backend: 'webgpu', engine: 'tfjs-fused', device: 'gpu', bound: 1e-3 },
];

/**
 * On a software adapter a family takes minutes on the GPU backends (VGG16: about 10 on this 2-core machine, RegNetX002
 * two), so these stand for the rest there: depthwise and pointwise convolutions with a classifier (top 5), hard-swish
 * with squeeze-excite. KERAS_APPS_BROWSER_GPU=all runs every family; a hardware GPU always does.
 */
const SOFTWARE_GPU_FAMILIES = new Set(['mobilenet', 'mobilenet_v3']);
const ALL_ON_GPU = process.env.KERAS_APPS_BROWSER_GPU === 'all';

interface Outcome {
  backend: string;
  engine: string;
  device: string;
  values?: number[];
  error?: string;
  ms: number;
}

/** Per image family (the registry's `module`): its builder with the fewest parameters, and that builder's smallest config. */
function smallestConfigs(): { family: string; builder: string; config: FixtureConfig }[] {
  const families = new Map<string, { builder: string; config: FixtureConfig }>();
  for (const [builder, entry] of Object.entries(applications)) {
    if (!existsSync(new URL(`../fixtures/keras-ref/${builder}.json`, import.meta.url))) continue;
    for (const config of loadFixture(builder).configs) {
      const size = (c: FixtureConfig) => [c.structure.total_params, c.numerics.input.shape.reduce((a, b) => a * b, 1)] as const;
      const best = families.get(entry.module);
      const [params, pixels] = size(config);
      if (!best || params < size(best.config)[0] || (params === size(best.config)[0] && pixels < size(best.config)[1])) {
        families.set(entry.module, { builder, config });
      }
    }
  }
  return [...families].map(([family, best]) => ({ family, ...best }));
}

/** The indices of the five largest values, largest first. */
function top5(values: ArrayLike<number>): number[] {
  return Array.from(values, (v, i) => [v, i] as const)
    .sort((a, b) => b[0] - a[0])
    .slice(0, 5)
    .map(([, i]) => i);
}

describe.skipIf(chromiumMissing)("Keras's outputs in Chromium, per backend and engine", () => {
  const data = mkdtempSync(join(tmpdir(), 'keras-browser-backends-'));
  let bench: BenchBrowser;
  let softwareGpu = true;

  beforeAll(async () => {
    bench = await startBenchBrowser({ modelsDir: data, mounts: { '/data/': data } });
    const page = await bench.openPage();
    softwareGpu = await page.evaluate(() => (window as unknown as { bench: { softwareGpu(): Promise<boolean> } }).bench.softwareGpu());
    await page.close();
  });
  afterAll(async () => {
    await bench?.close();
    rmSync(data, { recursive: true, force: true });
  });

  it('prefers wasm to WebGPU and WebGL on a software adapter, says why, and predicts with tfjs-fused there', async () => {
    const page = await bench.openPage();
    try {
      const choice = (await page.evaluate(() => (window as unknown as { bench: { start(b: string): Promise<unknown> } }).bench.start('auto'))) as {
        backend: string;
        tried: { name: string; ok: boolean; reason?: string }[];
        crossOriginIsolated: boolean;
      };
      expect(choice.crossOriginIsolated).toBe(true);
      // compileForInference's own choice on that backend (a small MobileNetV2 with random weights).
      const auto = (await page.evaluate(() =>
        (window as unknown as { bench: { latency(s: unknown): Promise<unknown> } }).bench.latency({ model: 'MobileNetV2', options: { alpha: 0.35, inputShape: [96, 96, 3] }, runs: 1, warmup: 0 }),
      )) as { engine: string; backend: string };
      if (softwareGpu) {
        expect(choice.backend).toBe('wasm');
        expect(choice.tried.at(-1)!.reason).toMatch(/^SIMD, \d+ threads?; ahead of webgl on a software adapter \(.*swiftshader.*\) and webgpu on a software adapter \(.*swiftshader.*\)$/i);
        expect(auto).toMatchObject({ engine: 'tfjs-fused', backend: 'wasm' });
      } else {
        expect(['webgpu', 'webgl']).toContain(choice.backend);
        expect(auto.engine).toBe('tfjs-fused');
      }
    } finally {
      await page.close();
    }
  });

  for (const { family, builder, config } of smallestConfigs()) {
    it(`${family}: ${builder} ${config.id}`, async () => {
      const runs = [...CPU_RUNS, ...(softwareGpu && !ALL_ON_GPU && !SOFTWARE_GPU_FAMILIES.has(family) ? [] : GPU_RUNS)];
      const weights = join(data, `${builder}.h5`);
      await writeLegacyWeights(weights, generatedWeightsFile(config));
      writeFileSync(join(data, 'input.f32'), generatedInput(config.numerics.input.shape));
      const page = await bench.openPage();
      let outcomes: Outcome[];
      try {
        outcomes = (await page.evaluate(
          (spec) => (window as unknown as { bench: { outputs(s: unknown): Promise<unknown> } }).bench.outputs(spec),
          {
            model: builder,
            options: builderOptions(config.kwargs),
            weights: `/data/${builder}.h5`,
            input: '/data/input.f32',
            shape: config.numerics.input.shape,
            runs: runs.map(({ backend, engine, device }) => ({ backend, engine, device })),
          },
        )) as Outcome[];
      } finally {
        await page.close();
        rmSync(weights, { force: true });
      }
      const expected = config.numerics.output.values;
      const failures: string[] = [];
      // The measured error of each backend (max |ours − keras| / max |keras|), for the closing note.
      const errors: string[] = [];
      runs.forEach((run, i) => {
        const outcome = outcomes[i]!;
        const label = `${run.backend}/${run.engine}/${run.device}`;
        if (outcome.error !== undefined) {
          errors.push(`${label}: failed (${outcome.error.split('\n')[0]})`);
          failures.push(`${label}: ${outcome.error}`);
          return;
        }
        if (outcome.backend !== run.backend || outcome.engine !== run.engine) {
          failures.push(`${label}: ran on ${outcome.backend}/${outcome.engine}`);
        }
        const error = outputError(config, Float32Array.from(outcome.values!));
        errors.push(`${label}: ${error.toExponential(2)} (${outcome.ms.toFixed(0)} ms)`);
        if (!(error < run.bound)) failures.push(`${label}: relative error ${error.toExponential(2)} ≥ ${run.bound}`);
        // A classifier's output: the same five classes, in Keras's order.
        if (expected && expected.length === 1000 && top5(outcome.values!).join() !== top5(expected).join()) {
          failures.push(`${label}: top 5 ${top5(outcome.values!).join(', ')}, Keras's ${top5(expected).join(', ')}`);
        }
      });
      console.log(`${family} (${builder} ${config.id}) vs Keras: ${errors.join('; ')}`);
      expect(failures).toEqual([]);
    }, 900_000);
  }
});
