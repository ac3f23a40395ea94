// classify and the CLI with a Keras model file as the model (the whole-model files of test/fixtures/keras-ref/models),
// against what Keras computes for the same photos (test/fixtures/keras-configs/classify_reference.json, written by
// classify_reference.py there): the preprocessing comes from the nested keras.applications model or `preprocess`.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBackend } from '../src/backend';
import { classify, clearModelCache } from '../src/classify';
import { ArgumentError } from '../src/errors';
import { nestedApplications } from '../src/models/nested-application';
import { runCli } from './helpers/cli';
import { relativeError } from './helpers/keras-ref';

const MODELS = 'test/fixtures/keras-ref/models';
const IMAGES = 'test/data/images';
const MOBILENET_HEAD = `${MODELS}/mobilenetv2_head.keras`;
const SEQUENTIAL = `${MODELS}/sequential_aug.keras`;
const HEAD_LABELS = ['daisy', 'dandelion', 'roses', 'sunflowers', 'tulips'];
const SEQUENTIAL_LABELS = ['red', 'green', 'blue'];

interface Reference {
  results: { model: string; mode: string; images: string[]; scores: number[][] }[];
}
const reference = JSON.parse(readFileSync('test/fixtures/keras-configs/classify_reference.json', 'utf8')) as Reference;
const kerasScores = (file: string) => reference.results.find((result) => file.endsWith(result.model))!;

/** Keras's scores of one image as classify's ranking: every class, best first. */
function kerasRanking(scores: number[], labels: string[]): { className: string; probability: number }[] {
  return scores
    .map((probability, i) => ({ className: labels[i]!, probability }))
    .sort((a, b) => b.probability - a.probability);
}

let folder: string;
beforeAll(async () => {
  await ensureBackend();
  folder = mkdtempSync(path.join(tmpdir(), 'classify-model-file-'));
});
afterAll(async () => {
  await clearModelCache();
  rmSync(folder, { recursive: true, force: true });
});

describe('classify with a model file', () => {
  it.each([
    [MOBILENET_HEAD, 'from the nested MobileNetV2 (tf)', HEAD_LABELS, undefined],
    [`${MODELS}/mobilenetv2_head.h5`, 'from the nested MobileNetV2 (tf)', HEAD_LABELS, undefined],
    [SEQUENTIAL, "given: 'none'", SEQUENTIAL_LABELS, 'none'],
  ] as const)("%s, preprocessing %s: Keras's scores for the photos, ranked", async (file, _how, labels, preprocess) => {
    const { images, scores } = kerasScores(file.replace('.h5', '.keras'));
    const results = await classify(
      images.map((image) => `${IMAGES}/${image}`),
      { model: file, labels: [...labels], top: labels.length, ...(preprocess ? { preprocess } : {}) },
    );
    for (const [i, ranked] of results.entries()) {
      const expected = kerasRanking(scores[i]!, [...labels]);
      expect(ranked.map((p) => p.className)).toEqual(expected.map((p) => p.className));
      const error = relativeError(ranked.map((p) => p.probability), expected.map((p) => p.probability));
      console.log(`${file} ${images[i]}: max relative error ${error.toExponential(2)} against Keras`);
      expect(error).toBeLessThan(1e-4);
    }
  });

  it("from the file's bytes, with `top`", async () => {
    const { scores } = kerasScores(MOBILENET_HEAD);
    const best = await classify(`${IMAGES}/elephant.jpg`, { model: readFileSync(MOBILENET_HEAD), labels: HEAD_LABELS, top: 2 });
    expect(best.map((p) => p.className)).toEqual(kerasRanking(scores[0]!, HEAD_LABELS).slice(0, 2).map((p) => p.className));
  });

  it('without `preprocess` when the file holds no keras.applications model: an ArgumentError naming it', async () => {
    const call = classify(`${IMAGES}/elephant.jpg`, { model: SEQUENTIAL, labels: SEQUENTIAL_LABELS });
    await expect(call).rejects.toThrow(ArgumentError);
    await expect(classify(`${IMAGES}/elephant.jpg`, { model: SEQUENTIAL, labels: SEQUENTIAL_LABELS })).rejects.toThrow(
      /^`preprocess` is required for test\/fixtures\/keras-ref\/models\/sequential_aug.keras: it holds no keras.applications model .*'caffe', 'tf', 'torch', 'none'\.$/,
    );
  });

  it.each([
    [{ model: MOBILENET_HEAD, labels: ['a', 'b'] }, /^`labels` has 2 names, but the output of .*mobilenetv2_head.keras has 5 classes/],
    [{ model: MOBILENET_HEAD }, /^`labels` must name the classes of the model file/],
    [{ model: MOBILENET_HEAD, labels: HEAD_LABELS, preprocess: 'inception' }, /^`preprocess` must be one of 'caffe', 'tf', 'torch', 'none'. Received: preprocess='inception'$/],
    [{ model: MOBILENET_HEAD, labels: HEAD_LABELS, weights: 'imagenet' }, /^`weights` and `modelOptions` are for the models of the registry/],
    [{ model: 'MobileNetV2', labels: HEAD_LABELS }, /^`labels` and `preprocess` are for a model file/],
    [{ model: `${MODELS}/functional_multi.keras`, labels: HEAD_LABELS, preprocess: 'tf' }, /^classify takes an image classifier: one input of \[height, width, 3\] images .*takes \[32, 32, 3\] and \[8\]/],
  ])('refuses %o', async (options, message) => {
    await expect(classify(`${IMAGES}/elephant.jpg`, options as never)).rejects.toThrow(ArgumentError);
    await expect(classify(`${IMAGES}/elephant.jpg`, options as never)).rejects.toThrow(message);
  });
});

describe('the keras.applications model inside a file, by the name Keras gives it', () => {
  const kerasNames = JSON.parse(readFileSync('test/fixtures/keras-configs/application_names.json', 'utf8')) as Record<string, string>;

  it.each(Object.entries(kerasNames))('%s: %s', (builder, kerasName) => {
    const base = tfl.sequential({ name: kerasName, layers: [tfl.layers.dense({ units: 2, inputShape: [3] })] });
    const input = tfl.input({ shape: [3] });
    const outer = tfl.model({ name: 'transfer', inputs: input, outputs: tfl.layers.dense({ units: 1 }).apply(base.apply(input)) as tfl.SymbolicTensor });
    expect(nestedApplications(outer).map((entry) => entry.kerasName)).toEqual([builder]);
    outer.dispose();
  });

  it("MobileNet's and MobileNetV2's names carry their alpha and size", () => {
    const named = (name: string) => tfl.sequential({ name, layers: [tfl.layers.dense({ units: 2, inputShape: [3] })] });
    expect(nestedApplications(named('mobilenetv2_0.35_96')).map((entry) => entry.kerasName)).toEqual(['MobileNetV2']);
    expect(nestedApplications(named('mobilenet_0.25_None')).map((entry) => entry.kerasName)).toEqual(['MobileNet']);
    expect(nestedApplications(named('my_classifier'))).toEqual([]);
  });
});

describe('the CLI with --model <file> --labels <file>', () => {
  const labelsFile = (name: string, labels: readonly string[]): string => {
    const file = path.join(folder, name);
    writeFileSync(file, `${labels.join('\n')}\n`);
    return file;
  };

  it("prints Keras's ranking for a photo", async () => {
    const { scores } = kerasScores(MOBILENET_HEAD);
    const { code, stdout, stderr } = await runCli('classify', `${IMAGES}/elephant.jpg`, '--model', MOBILENET_HEAD, '--labels', labelsFile('head.txt', HEAD_LABELS), '--json');
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const printed = JSON.parse(stdout) as { model: string; results: { predictions: { className: string; probability: number }[] }[] };
    expect(printed.model).toBe(MOBILENET_HEAD);
    const expected = kerasRanking(scores[0]!, HEAD_LABELS);
    expect(printed.results[0]!.predictions.map((p) => p.className)).toEqual(expected.map((p) => p.className));
    expect(relativeError(printed.results[0]!.predictions.map((p) => p.probability), expected.map((p) => p.probability))).toBeLessThan(1e-4);
  });

  it('--preprocess when the file has no keras.applications model', async () => {
    const { scores } = kerasScores(SEQUENTIAL);
    const labels = labelsFile('rgb.txt', SEQUENTIAL_LABELS);
    const { code, stdout } = await runCli('classify', `${IMAGES}/elephant.jpg`, '--model', SEQUENTIAL, '--labels', labels, '--preprocess', 'none', '--top', '1');
    expect(code).toBe(0);
    expect(stdout).toContain(`${IMAGES}/elephant.jpg (${SEQUENTIAL})`);
    expect(stdout).toMatch(new RegExp(`^1  ${kerasRanking(scores[0]!, SEQUENTIAL_LABELS)[0]!.className} `, 'm'));
  });

  it.each([
    [['--model', SEQUENTIAL, '--labels', 'rgb'], /^error: --preprocess is required: .*sequential_aug.keras holds no keras.applications model/],
    [['--model', MOBILENET_HEAD], /^error: --labels <file> is required with a model file/],
    [['--model', MOBILENET_HEAD, '--labels', 'rgb'], /^error: --labels .*rgb.txt names 3 classes, but the output of .*mobilenetv2_head.keras has 5/],
    [['--model', MOBILENET_HEAD, '--labels', 'rgb', '--preprocess', 'inception'], /^error: --preprocess must be one of caffe, tf, torch, none. Received: inception/],
    [['--model', MOBILENET_HEAD, '--labels', 'rgb', '--alpha', '0.5'], /^error: --alpha is for the models 'list' shows/],
    [['--model', 'MobileNetV2', '--labels', 'rgb'], /^error: --labels and --preprocess are for a model file/],
  ])('usage error (exit 2): %o', async (args, message) => {
    const argv = args.map((arg) => (arg === 'rgb' ? labelsFile('rgb.txt', SEQUENTIAL_LABELS) : arg));
    const { code, stderr } = await runCli('classify', `${IMAGES}/elephant.jpg`, ...argv);
    expect(stderr).toMatch(message);
    expect(code).toBe(2);
  });
});
