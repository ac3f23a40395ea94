import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MSD_WEIGHTS, musicTaggerCRNN } from '../src/applications/music-tagger-crnn';
import { ensureBackend } from '../src/backend';
import { WeightsMismatchError } from '../src/errors';
import { decodeMusicTags, MUSIC_TAGS } from '../src/audio/music-tags';
import { readWeightsFile } from '../src/weights/h5';
import { convertKeras1Weights, isKeras1File, keras1Kernels } from '../src/weights/keras1';
import type { WeightsFile } from '../src/weights/types';
import { H5_DIR } from './helpers/tiny';
import { AUDIO_DIR, authorBatch, CLIPS, published } from './music-helpers';

const WEIGHTS = {
  tensorflow: `${AUDIO_DIR}music_tagger_crnn_weights_tensorflow.h5`,
  theano: `${AUDIO_DIR}music_tagger_crnn_weights_theano.h5`,
};

let melgrams: tf.Tensor4D;
const scores: Record<string, Float32Array> = {};

beforeAll(async () => {
  await ensureBackend();
  melgrams = authorBatch();
});
afterAll(() => melgrams.dispose());

async function predict(model: tfl.LayersModel): Promise<Float32Array> {
  const output = model.predict(melgrams) as tf.Tensor;
  const values = (await output.data()) as Float32Array;
  output.dispose();
  return values;
}

describe("MusicTaggerCRNN from the author's mel-spectrograms", () => {
  for (const [backend, path] of Object.entries(WEIGHTS)) {
    it(`gives the published top-10 tags and scores with the ${backend} file`, async () => {
      const model = await musicTaggerCRNN({ weights: path });
      scores[backend] = await predict(model);
      model.dispose();
      const tags = decodeMusicTags(tf.tensor2d(scores[backend]!, [CLIPS.length, 50]), 10);
      CLIPS.forEach((clip, i) => {
        const ours = tags[i]!.map(({ tag, score }) => [tag, Number(score.toFixed(3))]);
        expect(ours, clip).toEqual(published.results[`${clip}.mp3`]);
      });
    });
  }

  it('gives the same scores with both files', () => {
    const [a, b] = [scores.tensorflow!, scores.theano!];
    expect(a.length).toBe(CLIPS.length * 50);
    a.forEach((value, i) => expect(Math.abs(value - b[i]!)).toBeLessThan(1e-5));
  });

  it('the theano kernels read as tensorflow ones give other tags: the backend matters', async () => {
    const model = await musicTaggerCRNN({ weights: WEIGHTS.theano, kernels: 'tensorflow' });
    const wrong = await predict(model);
    model.dispose();
    expect(Math.max(...wrong.map((v, i) => Math.abs(v - scores.tensorflow![i]!)))).toBeGreaterThan(0.05);
  });

  it("'msd' loads the release file from the Keras cache", async () => {
    const cacheDir = mkdtempSync(join(tmpdir(), 'msd-'));
    try {
      mkdirSync(join(cacheDir, 'models'));
      // The release file holds the TensorFlow-trained kernels; the author's TensorFlow file stands in for it.
      copyFileSync(WEIGHTS.tensorflow, join(cacheDir, 'models', MSD_WEIGHTS.fileName));
      const model = await musicTaggerCRNN({ weights: 'msd', cacheDir, offline: true });
      const values = await predict(model);
      model.dispose();
      values.forEach((value, i) => expect(Math.abs(value - scores.tensorflow![i]!)).toBeLessThan(1e-6));
    } finally {
      rmSync(cacheDir, { recursive: true, force: true });
    }
  });

  it('without the top gives the 32-dim GRU feature', async () => {
    const model = await musicTaggerCRNN({ weights: WEIGHTS.theano, includeTop: false });
    expect(model.outputs[0]!.shape).toEqual([null, 32]);
    expect(model.layers.map((l) => l.name)).not.toContain('output');
    model.dispose();
  });

  it('takes an input tensor and random weights', async () => {
    const inputTensor = tfl.input({ shape: [96, 1366, 1] });
    const model = await musicTaggerCRNN({ weights: null, inputTensor });
    expect(model.inputs[0]).toBe(inputTensor);
    expect(model.outputs[0]!.shape).toEqual([null, 50]);
    expect(model.countParams()).toBe(400_562);
    model.dispose();
  });

  it('rejects bad arguments', async () => {
    await expect(musicTaggerCRNN({ weights: 'imagenet' as never })).rejects.toThrow(/'msd' .*weights='imagenet' \(no file exists/);
    await expect(musicTaggerCRNN({ weights: 42 as never })).rejects.toThrow(/'msd'/);
    await expect(musicTaggerCRNN({ kernels: 'cntk' as never })).rejects.toThrow(/kernels/);
    await expect(musicTaggerCRNN({ pooling: 'avg' } as never)).rejects.toThrow(/Unknown option `pooling`/);
  });
});

describe('Keras 1 weight files', () => {
  let file: WeightsFile;
  beforeAll(async () => {
    file = await readWeightsFile(WEIGHTS.tensorflow);
  });

  const withLayers = (layers: WeightsFile['layers']): WeightsFile => ({ ...file, layers });

  it('are told apart from Keras 2 files, and their backend is read from the weight names', async () => {
    const theano = await readWeightsFile(WEIGHTS.theano);
    expect([isKeras1File(file), isKeras1File(theano)]).toEqual([true, true]);
    expect([keras1Kernels(file), keras1Kernels(theano)]).toEqual(['tensorflow', 'theano']);
    expect(keras1Kernels({ ...theano, attributes: { backend: 'tensorflow' } })).toBe('tensorflow');
    expect(isKeras1File(await readWeightsFile(`${H5_DIR}tiny_legacy.h5`))).toBe(false);
  });

  it('for another model are refused with the layer named', async () => {
    const bn0 = file.layers.find((l) => l.name === 'bn_0_freq')!;
    // MusicTaggerCNN normalises the 96 mel bands instead of the 1440 frames, and has a conv5.
    const cnnLike = withLayers(
      file.layers.map((l) =>
        l === bn0 ? { ...l, weights: l.weights.map((w) => ({ ...w, shape: [96], data: w.data.subarray(0, 96) })) } : l,
      ),
    );
    await expect(musicTaggerCRNN({ weights: cnnLike })).rejects.toThrow(/layer 'bn_0_freq'.*do not fit/);
    const conv1 = file.layers.find((l) => l.name === 'conv1')!;
    const extra = withLayers([...file.layers, { name: 'conv5', weights: conv1.weights.map((w) => ({ ...w, name: w.name.replace('conv1', 'conv5') })) }]);
    await expect(musicTaggerCRNN({ weights: extra })).rejects.toThrow(/layer 'conv5', which the model does not have/);
    await expect(musicTaggerCRNN({ weights: withLayers(file.layers.filter((l) => l.name !== 'gru2')) })).rejects.toThrow(
      /no weights for layer 'gru2'/,
    );
    const lstmLike = withLayers(
      file.layers.map((l) => (l.name === 'gru1' ? { ...l, weights: l.weights.map((w) => ({ ...w, name: w.name.replace('_z', '_i') })) } : l)),
    );
    await expect(musicTaggerCRNN({ weights: lstmLike })).rejects.toThrow(WeightsMismatchError);
  });

  it('convert GRU gates to z|r|h columns and Theano kernels to flipped (rows, cols, in, out)', () => {
    const t = (name: string, shape: number[], values: number[]) => ({ name, shape, data: Float32Array.from(values) });
    const gru = ['z', 'r', 'h'].flatMap((g, i) => [
      t(`g_W_${g}`, [1, 1], [10 + i]),
      t(`g_U_${g}`, [1, 1], [20 + i]),
      t(`g_b_${g}`, [1], [30 + i]),
    ]);
    // A th-ordered (out 1, in 2, rows 1, cols 2) kernel: value = 10·in + col.
    const conv = [t('c_W', [1, 2, 1, 2], [0, 1, 10, 11]), t('c_b', [1], [5])];
    const keras1: WeightsFile = { format: 'legacy', attributes: {}, layers: [{ name: 'g', weights: gru }, { name: 'c', weights: conv }] };
    const targets = [
      { name: 'g', shapes: [[1, 3], [1, 3], [3]] },
      { name: 'c', shapes: [[1, 2, 2, 1], [1]] },
    ];
    const converted = convertKeras1Weights(keras1, targets);
    const [g, c] = converted.layers;
    expect(g!.weights.map((w) => [w.name, Array.from(w.data)])).toEqual([
      ['g/kernel:0', [10, 11, 12]],
      ['g/recurrent_kernel:0', [20, 21, 22]],
      ['g/bias:0', [30, 31, 32]],
    ]);
    // (row 0, col, in, out): the columns swap places under Theano's flip.
    expect(Array.from(c!.weights[0]!.data)).toEqual([1, 11, 0, 10]);
    expect(Array.from(convertKeras1Weights(keras1, targets, { kernels: 'tensorflow' }).layers[1]!.weights[0]!.data)).toEqual([0, 10, 1, 11]);
  });
});

describe('decodeMusicTags', () => {
  it('lists the best tags first and checks the shape', () => {
    const row = MUSIC_TAGS.map((_, i) => (i === 9 ? 0.9 : i === 33 ? 0.5 : 0.01));
    expect(decodeMusicTags([row], 3)[0]).toEqual([
      { tag: 'jazz', score: 0.9 },
      { tag: 'Hip-Hop', score: 0.5 },
      { tag: 'rock', score: 0.01 },
    ]);
    expect(MUSIC_TAGS).toEqual(published.tags);
    expect(() => decodeMusicTags([[0.1, 0.2]])).toThrow(/\(samples, 50\)/);
    expect(() => decodeMusicTags(tf.zeros([2, 50, 1]))).toThrow(/\[2, 50, 1\]/);
  });
});
