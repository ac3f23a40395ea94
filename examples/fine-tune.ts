// Fine-tuning a pretrained base on a small image set, as Keras's transfer-learning guide does it:
// 1. freeze the base, put a new head on it and train the head; 2. unfreeze the top blocks and train them
// with a lower learning rate. The base is MobileNet α=0.25 with the official Keras weights kept in the
// repository; the data are the five test photos, each a class, augmented into 400 samples.
// Every random choice is seeded: two runs print the same numbers (on the same backend).
//
//   npm run example:fine-tune
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { ensureBackend, freeze, mobilenet, preprocessInput, seededRandom, shuffled, unfreeze, withNewHead } from '../src/index';
import { augmentedPhotos, type PhotoDataset } from './photo-dataset';

const WEIGHTS = fileURLToPath(new URL('../test/data/weights/mobilenet_2_5_224_tf_no_top.h5', import.meta.url));
const SIZE = 128;
const SEED = 42;
const random = seededRandom(SEED);

/** `epochs` passes over `train` in a seeded order, printing loss and accuracy after each. */
async function trainEpochs(model: tfl.LayersModel, step: string, epochs: number, train: PhotoDataset, validation: [tf.Tensor, tf.Tensor]) {
  const indices = Array.from({ length: train.images.shape[0] }, (_, i) => i);
  for (let epoch = 1; epoch <= epochs; epoch++) {
    const [x, y] = tf.tidy(() => {
      const order = tf.tensor1d(shuffled(indices, random), 'int32');
      return [preprocessInput(tf.gather(train.images, order), 'MobileNet'), tf.gather(train.labels, order)];
    });
    const history = await model.fit(x, y, { batchSize: 32, epochs: 1, shuffle: false, validationData: validation, verbose: 0 });
    const metric = (name: string) => (history.history[name]![0] as number).toFixed(4);
    console.log(`${step} epoch ${epoch}/${epochs}: loss ${metric('loss')} accuracy ${metric('acc')} · validation loss ${metric('val_loss')} accuracy ${metric('val_acc')}`);
    tf.dispose([x, y]);
  }
}

const started = Date.now();
await ensureBackend();
const train = await augmentedPhotos({ perPhoto: 64, size: SIZE, seed: 1 });
const heldOut = await augmentedPhotos({ perPhoto: 16, size: SIZE, seed: 2 });
const validation: [tf.Tensor, tf.Tensor] = [preprocessInput(heldOut.images, 'MobileNet'), heldOut.labels];
console.log(`${train.images.shape[0]} training and ${heldOut.images.shape[0]} validation samples of ${train.classNames.join(', ')}`);

// Step 1: the base frozen (its BatchNormalization layers run in inference mode), a new head trained.
const base = await mobilenet({ alpha: 0.25, includeTop: false, weights: WEIGHTS, inputShape: [SIZE, SIZE, 3] });
freeze(base);
const model = withNewHead(base, { classes: train.classNames.length, seed: SEED });
model.compile({ optimizer: tf.train.adam(1e-3), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
await trainEpochs(model, 'head', 4, train, validation);

// Step 2: the last two depthwise-separable blocks trained too, their BatchNormalization layers still frozen.
unfreeze(model, { from: 'conv_dw_12', keepBatchNormalizationFrozen: true });
model.compile({ optimizer: tf.train.adam(1e-4), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
console.log(`trainable: ${model.trainableWeights.map((weight) => weight.name).join(', ')}`);
await trainEpochs(model, 'top blocks', 2, train, validation);

console.log(`done in ${((Date.now() - started) / 1000).toFixed(0)} s on ${tf.getBackend()}`);
