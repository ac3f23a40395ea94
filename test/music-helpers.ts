// Test data of MusicTaggerCRNN: the author's mel-spectrograms (.npy) and published tags.
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';

export const AUDIO_DIR = 'test/data/audio/';
export const CLIPS = ['bensound-cute', 'bensound-actionable', 'bensound-dubstep', 'bensound-thejazzpiano'];

export interface PublishedTags {
  tags: string[];
  results: Record<string, [string, number][]>;
}

export const published: PublishedTags = JSON.parse(readFileSync(`${AUDIO_DIR}published_tags.json`, 'utf8'));

/** A little-endian float64 C-order .npy file (NumPy format 1.0/2.0): its shape and values. */
export function readNpy(path: string): { shape: number[]; data: Float64Array } {
  const bytes = readFileSync(path);
  if (bytes.toString('latin1', 0, 6) !== '\x93NUMPY') throw new Error(`${path} is not a .npy file`);
  const major = bytes[6]!;
  const headerLength = major === 1 ? bytes.readUInt16LE(8) : bytes.readUInt32LE(8);
  const start = (major === 1 ? 10 : 12) + headerLength;
  const header = bytes.toString('latin1', start - headerLength, start);
  if (!header.includes("'descr': '<f8'") || header.includes("'fortran_order': True")) {
    throw new Error(`${path}: only little-endian float64 C-order arrays are read; header ${header}`);
  }
  const shape = [...header.match(/'shape': \(([^)]*)\)/)![1]!.matchAll(/\d+/g)].map((m) => Number(m[0]));
  const data = new Float64Array(bytes.buffer.slice(bytes.byteOffset + start, bytes.byteOffset + bytes.length));
  return { shape, data };
}

/** The author's (1, 1, 96, 1366) mel-spectrogram of `clip`, as the model's channels-last (96, 1366, 1) values. */
export function authorMelgram(clip: string): Float32Array {
  return Float32Array.from(readNpy(`${AUDIO_DIR}${clip}.npy`).data);
}

/** The author's mel-spectrograms of every clip as one (4, 96, 1366, 1) batch. */
export function authorBatch(): tf.Tensor4D {
  const values = new Float32Array(CLIPS.length * 96 * 1366);
  CLIPS.forEach((clip, i) => values.set(authorMelgram(clip), i * 96 * 1366));
  return tf.tensor4d(values, [CLIPS.length, 96, 1366, 1]);
}

/** A WAV file of `channels` interleaved with `bits`-bit samples (3 = float32 when `float`). */
export function wav(samples: number[][], sampleRate: number, bits: number, float = false): Uint8Array {
  const channels = samples.length;
  const frames = samples[0]!.length;
  const width = bits / 8;
  const bytes = new Uint8Array(44 + frames * channels * width);
  const view = new DataView(bytes.buffer);
  const ascii = (at: number, s: string) => [...s].forEach((c, i) => (bytes[at + i] = c.charCodeAt(0)));
  ascii(0, 'RIFF');
  view.setUint32(4, bytes.length - 8, true);
  ascii(8, 'WAVEfmt ');
  view.setUint32(16, 16, true);
  view.setUint16(20, float ? 3 : 1, true);
  view.setUint16(22, channels, true);
  view.setUint32(24, sampleRate, true);
  view.setUint32(28, sampleRate * channels * width, true);
  view.setUint16(32, channels * width, true);
  view.setUint16(34, bits, true);
  ascii(36, 'data');
  view.setUint32(40, frames * channels * width, true);
  for (let f = 0, at = 44; f < frames; f++) {
    for (let c = 0; c < channels; c++, at += width) {
      const v = samples[c]![f]!;
      if (float) view.setFloat32(at, v, true);
      else if (bits === 16) view.setInt16(at, Math.round(v * 32767), true);
      else if (bits === 8) view.setUint8(at, Math.round(v * 127) + 128);
      else {
        const int = Math.round(v * 8388607);
        [0, 8, 16].forEach((shift, i) => view.setUint8(at + i, (int >> shift) & 0xff));
      }
    }
  }
  return bytes;
}
