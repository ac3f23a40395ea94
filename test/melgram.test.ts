import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { musicTaggerCRNN } from '../src/applications/music-tagger-crnn';
import { ensureBackend } from '../src/backend';
import { computeMelgram, decodeAudio } from '../src/audio/melgram';
import { decodeMusicTags } from '../src/audio/music-tags';
import { AUDIO_DIR, CLIPS, published, readNpy, wav } from './music-helpers';

beforeAll(ensureBackend);

describe('computeMelgram from the mp3 files', () => {
  let model: tfl.LayersModel;
  const melgrams: tf.Tensor3D[] = [];
  beforeAll(async () => {
    model = await musicTaggerCRNN({ weights: `${AUDIO_DIR}music_tagger_crnn_weights_theano.h5` });
  });
  afterAll(() => {
    model.dispose();
    tf.dispose(melgrams);
  });

  for (const clip of CLIPS) {
    it(`${clip}: within 0.01 dB of the author's spectrogram on average, with the published top-5 tags`, async () => {
      const melgram = await computeMelgram(`${AUDIO_DIR}${clip}.mp3`);
      melgrams.push(melgram);
      expect(melgram.shape).toEqual([96, 1366, 1]);
      const ours = melgram.dataSync();
      const author = readNpy(`${AUDIO_DIR}${clip}.npy`).data;
      const diff = Float64Array.from(ours, (v, i) => Math.abs(v - author[i]!)).sort();
      const mean = diff.reduce((a, b) => a + b, 0) / diff.length;
      // The issue asks for 0.1 dB; resampy's filter and the decoder shift give 0.0001–0.0008 dB.
      expect(mean).toBeLessThan(0.01);
      expect(diff[Math.floor(diff.length * 0.99)]).toBeLessThan(0.05);

      const scores = tf.tidy(() => model.predict(tf.expandDims(melgram, 0)) as tf.Tensor);
      const tags = decodeMusicTags(scores, 5)[0]!;
      scores.dispose();
      const expected = published.results[`${clip}.mp3`]!.slice(0, 5);
      // Tags of equal published score may swap places.
      expect(tags.map((t) => t.tag).sort()).toEqual(expected.map(([tag]) => tag).sort());
      for (const { tag, score } of tags) {
        expect(Math.abs(score - expected.find(([t]) => t === tag)![1]), tag).toBeLessThanOrEqual(0.02);
      }
    });
  }
});

describe('computeMelgram from WAV files', () => {
  const tone = (hz: number, rate: number, seconds: number, amplitude = 0.5) =>
    Array.from({ length: rate * seconds }, (_, i) => amplitude * Math.sin((2 * Math.PI * hz * i) / rate));

  it('puts a 12 kHz tone in its mel band and zero-pads a short clip to the 80 dB floor', async () => {
    const melgram = await computeMelgram(wav([tone(440, 12_000, 10)], 12_000, 16));
    const values = melgram.dataSync() as Float32Array;
    melgram.dispose();
    const frame = (t: number) => Array.from({ length: 96 }, (_, m) => values[m * 1366 + t]!);
    const loudest = frame(200).indexOf(Math.max(...frame(200)));
    // 440 Hz is 6.6 on librosa's Slaney mel scale: between the centres of bands 14 (6.35) and 15 (6.77).
    expect([14, 15]).toContain(loudest);
    const max = values.reduce((a, b) => Math.max(a, b));
    expect(Math.max(...frame(1300))).toBeCloseTo(max - 80, 4);
  });

  it('reads 8-, 16-, 24-bit and float WAV, stereo averaged to mono, resampled from 44.1 kHz', async () => {
    const left = tone(1000, 44_100, 1, 0.25);
    const right = tone(1000, 44_100, 1, 0.75);
    for (const [bits, float] of [[8, false], [16, false], [24, false], [32, true]] as const) {
      const audio = await decodeAudio(wav([left, right], 44_100, bits, float));
      expect(audio.sampleRate).toBe(44_100);
      expect(audio.channelData.length).toBe(2);
      const step = bits === 8 ? 1 / 64 : 1e-4;
      const worst = audio.channelData[1]!.reduce((w, v, i) => Math.max(w, Math.abs(v - right[i]!)), 0);
      expect(worst, `${bits}-bit`).toBeLessThan(step);
    }
    const melgram = await computeMelgram(wav([left, right], 44_100, 32, true));
    const mono = await computeMelgram(wav([tone(1000, 44_100, 1, 0.5)], 44_100, 32, true));
    const [a, b] = [melgram.dataSync(), mono.dataSync()];
    expect((a as Float32Array).reduce((w, v, i) => Math.max(w, Math.abs(v - b[i]!)), 0)).toBeLessThan(1e-3);
    tf.dispose([melgram, mono]);
  });

  it('refuses what it cannot decode', async () => {
    await expect(computeMelgram(new Uint8Array(1000))).rejects.toThrow(/neither WAV nor MPEG/);
    const alaw = wav([[0, 0]], 8000, 8);
    new DataView(alaw.buffer).setUint16(20, 6, true);
    await expect(computeMelgram(alaw)).rejects.toThrow(/format 6 with 8-bit samples/);
  });
});
