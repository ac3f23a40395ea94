import * as tf from '@tensorflow/tfjs-core';
import { ArgumentError } from '../errors';

/** MusicTaggerCRNN's 50 Million Song Dataset tags, in output order (the author's `audio_conv_utils.py`). */
export const MUSIC_TAGS: readonly string[] = [
  'rock', 'pop', 'alternative', 'indie', 'electronic', 'female vocalists', 'dance', '00s', 'alternative rock', 'jazz',
  'beautiful', 'metal', 'chillout', 'male vocalists', 'classic rock', 'soul', 'indie rock', 'Mellow', 'electronica', '80s',
  'folk', '90s', 'chill', 'instrumental', 'punk', 'oldies', 'blues', 'hard rock', 'ambient', 'acoustic',
  'experimental', 'female vocalist', 'guitar', 'Hip-Hop', '70s', 'party', 'country', 'easy listening', 'sexy', 'catchy',
  'funk', 'electro', 'heavy metal', 'Progressive rock', '60s', 'rnb', 'indie pop', 'sad', 'House', 'happy',
];

export interface MusicTag {
  tag: string;
  score: number;
}

/**
 * For each row of a (samples, 50) batch of MusicTaggerCRNN scores, the `top` highest-scoring tags, best
 * first; equal scores keep the tags' order. `top` above 50 gives all 50.
 */
export function decodeMusicTags(preds: tf.Tensor | ArrayLike<ArrayLike<number>>, top = 5): MusicTag[][] {
  if (!Number.isInteger(top) || top < 1) {
    throw new ArgumentError(`Expected top to be a positive integer. Received: top=${top}`);
  }
  const rows = preds instanceof tf.Tensor ? tensorRows(preds) : Array.from(preds);
  return rows.map((row, r) => {
    if (row?.length !== MUSIC_TAGS.length) {
      throw new ArgumentError(`${SHAPE_RULE} Received: row ${r} has ${row?.length ?? 'no'} values`);
    }
    const order = MUSIC_TAGS.map((_, i) => i).sort((a, b) => row[b]! - row[a]! || a - b);
    return order.slice(0, top).map((i) => ({ tag: MUSIC_TAGS[i]!, score: row[i]! }));
  });
}

const SHAPE_RULE = '`decodeMusicTags` expects a batch of MusicTaggerCRNN scores (a 2D array of shape (samples, 50)).';

function tensorRows(preds: tf.Tensor): ArrayLike<number>[] {
  const [samples, width] = preds.shape;
  if (preds.rank !== 2 || width !== MUSIC_TAGS.length) {
    throw new ArgumentError(`${SHAPE_RULE} Received a tensor with shape: [${preds.shape.join(', ')}]`);
  }
  const values = preds.dataSync();
  return Array.from({ length: samples! }, (_, r) => values.subarray(r * width, (r + 1) * width));
}
