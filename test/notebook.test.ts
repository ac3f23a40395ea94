import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { notebookDir, notebookWorkspace, readNotebook } from './helpers/notebook';
import { relativeError } from './helpers/keras-ref';

// docs/notebooks/quickstart.ipynb's code cells, run in order as one TypeScript module with tsx against the
// built package (dist/), offline: classification uses the MobileNet α=0.25 128×128 classifier the package ships, and
// KERAS_HOME holds the real MobileNet α=0.25 no-top file for the features cell. The notebook's own image,
// test/data/images/elephant.jpg, is the photo Keras computed both references from.
// `KERAS_APPS_TSLAB=1` also executes the notebook itself in tslab with jupyter nbconvert.
const root = fileURLToPath(new URL('..', import.meta.url));
const run = promisify(execFile);

const { notebook, codeCells } = readNotebook('quickstart.ipynb');

const keras = JSON.parse(readFileSync(join(root, 'test/fixtures/keras-ref/real/mobilenet_025_features.json'), 'utf8')) as {
  images: Record<string, { features: { values: number[] } }>;
};
const elephant = keras.images['elephant.jpg']!;
const kerasTop5 = (
  JSON.parse(readFileSync(join(root, 'test/fixtures/keras-ref/real/mobilenet_025_128_predictions.json'), 'utf8')) as {
    images: Record<string, [string, string, number][]>;
  }
).images['elephant.jpg']!;

const home = mkdtempSync(join(tmpdir(), 'keras-notebook-'));
const env = {
  ...process.env,
  KERAS_HOME: home,
  KERAS_APPLICATIONS_OFFLINE: '1',
};

beforeAll(async () => {
  mkdirSync(join(home, 'models'));
  copyFileSync(join(root, 'test/data/weights/mobilenet_2_5_224_tf_no_top.h5'), join(home, 'models/mobilenet_2_5_224_tf_no_top.h5'));
});
afterAll(() => rmSync(home, { recursive: true, force: true }));

describe('docs/notebooks/quickstart.ipynb', () => {
  it('is a tslab notebook', () => {
    expect(notebook.metadata.kernelspec.name).toBe('tslab');
    expect(codeCells.some((source) => source.includes("from 'tslab'"))).toBe(true);
  });

  it("runs: top 5, an SVG bar chart of them, and Keras's features", async () => {
    expect(existsSync(join(root, 'dist/index.js')), 'dist/index.js is missing: run `npm run build`').toBe(true);
    const { work, cells } = notebookWorkspace('notebook-', codeCells);
    try {
      const epilogue = "console.log('<<result>>' + JSON.stringify({ top5, features: Array.from(featureValues) }));";
      writeFileSync(join(work, 'quickstart.mts'), [...cells, epilogue].join('\n\n'));

      const { stdout } = await run(join(root, 'node_modules/.bin/tsx'), [join(work, 'quickstart.mts')], { cwd: notebookDir, env });
      const marked = (marker: string) => JSON.parse(stdout.split('\n').find((line) => line.startsWith(marker))!.slice(marker.length));
      const { top5, features } = marked('<<result>>') as { top5: { className: string; probability: number }[]; features: number[] };
      const svg = marked('<<html>>') as string;

      expect(top5.map((p) => p.className)).toEqual(kerasTop5.map(([, className]) => className));
      top5.forEach((p, i) => expect(relativeError([p.probability], [kerasTop5[i]![2]])).toBeLessThan(1e-4));
      for (const { className, probability } of top5) expect(stdout).toContain(`${(probability * 100).toFixed(2)}%  ${className}`);
      expect(svg).toMatch(/^<svg /);
      expect(svg.match(/<rect /g)).toHaveLength(5);
      expect([...svg.matchAll(/text-anchor="end">([^<]+)</g)].map(([, name]) => name)).toEqual(top5.map((p) => p.className));
      expect(relativeError(features, elephant.features.values)).toBeLessThan(1e-4);
      expect(stdout).toContain('tensors left: 0');
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });

  it.runIf(process.env.KERAS_APPS_TSLAB === '1')('executes in tslab (jupyter nbconvert --execute)', async () => {
    const output = join(home, 'quickstart.out.ipynb');
    await run('jupyter', ['nbconvert', '--to', 'notebook', '--execute', 'quickstart.ipynb', '--output', output], { cwd: notebookDir, env });
    const executed = JSON.parse(readFileSync(output, 'utf8')) as { cells: { outputs?: { output_type: string; data?: Record<string, unknown> }[] }[] };
    const outputs = executed.cells.flatMap((cell) => cell.outputs ?? []);
    expect(outputs.some((o) => o.output_type === 'error')).toBe(false);
    expect(outputs.some((o) => String(o.data?.['text/html'] ?? '').includes('<svg'))).toBe(true);
  });
});
