import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

// The built package (npm test builds it first) from both module systems, as users import it.
const script = (load: string) => `
  ${load}
  (async () => {
    const model = await m.vgg16({ weights: null, includeTop: false, inputShape: [32, 32, 3] });
    const choice = m.getBackendChoice();
    console.log(JSON.stringify({
      names: Object.keys(m.applications),
      builders: ['vgg16', 'resnet152V2', 'preprocessInput', 'decodePredictions', 'loadWeights', 'getFile', 'loadImage'].filter((k) => typeof m[k] === 'function'),
      layers: model.layers.length,
      backend: choice && choice.backend,
    }));
  })().catch((e) => { console.error(e); process.exit(1); });
`;

function run(args: string[]): { names: string[]; builders: string[]; layers: number; backend: string } {
  return JSON.parse(execFileSync(process.execPath, args, { encoding: 'utf8' }).trim().split('\n').pop()!);
}

describe('the built package', () => {
  it('works from CommonJS', () => {
    const result = run(['-e', script("const m = require('./dist/index.cjs');")]);
    expect(result.names).toContain('ResNet152V2');
    expect(result.builders).toHaveLength(7);
    expect(result.layers).toBe(19);
    expect(result.backend).toBe('wasm');
  });

  it("exposes the CommonJS build's named exports to Node's ESM import()", () => {
    const result = run(['--input-type=module', '-e', script("const m = await import('./dist/index.cjs');")]);
    expect(result.names).toContain('ResNet152V2');
    expect(result.builders).toHaveLength(7);
    expect(result.layers).toBe(19);
  });

  it('ships the build and the bundled offline model, not the sources or tests', () => {
    const [packed] = JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }));
    const files = (packed.files as { path: string }[]).map((file) => file.path);
    expect(files).toEqual(expect.arrayContaining(['dist/index.js', 'dist/index.cjs', 'dist/cli.js', 'models/mobilenet_2_5_128_tf.h5', 'README.md', 'LICENSE']));
    expect(files.filter((file) => /^(src|test|docs)\//.test(file))).toEqual([]);
    // No source maps (they were most of the tarball) and no CommonJS build of the command, which runs as ESM.
    expect(files.filter((file) => file.endsWith('.map') || file === 'dist/cli.cjs')).toEqual([]);
  });

  it('works from ESM', () => {
    const result = run(['--input-type=module', '-e', script("const m = await import('./dist/index.js');")]);
    expect(result.names).toEqual(expect.arrayContaining(['VGG16', 'Xception', 'NASNetLarge']));
    expect(result.builders).toHaveLength(7);
    expect(result.layers).toBe(19);
  });
});
