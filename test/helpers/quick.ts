// `npm run test:quick` (KERAS_APPS_QUICK=1): the unit tests and one Keras fixture config per family, so a change can be
// checked in a few minutes; `npm test` runs everything.
export const QUICK = process.env.KERAS_APPS_QUICK === '1';

/**
 * One config per family (the smaller no-top config where the top adds nothing new; the top where it has
 * Dropout or a classifier convolution), so that a run meets every kind of layer the builders use.
 */
export const REPRESENTATIVE_CONFIGS: ReadonlyArray<readonly [builder: string, config: string]> = [
  ['VGG16', 'notop_avg_128x160'],
  ['ResNet50', 'top_default'],
  ['ResNet50V2', 'notop_avg_128x160'],
  ['Xception', 'notop_avg_160x192'],
  ['InceptionV3', 'notop_avg_160x192'],
  ['InceptionResNetV2', 'notop_avg_160x192'],
  ['DenseNet121', 'notop_avg_128x160'],
  ['NASNetMobile', 'notop_avg_160x192'],
  ['MobileNet', 'alpha0.5_top_160x160'],
  ['MobileNetV2', 'notop_avg_128x160'],
  ['MobileNetV3Small', 'top_default'],
  ['EfficientNetB0', 'top_default'],
  ['EfficientNetV2B0', 'notop_avg_128x160'],
  ['ConvNeXtTiny', 'notop_avg_128x160'],
  ['RegNetX002', 'notop_avg_128x160'],
  ['RegNetY002', 'notop_avg_128x160'],
  ['ResNetRS50', 'notop_avg_128x160'],
  ['ResNeXt50', 'notop_avg_128x160'],
];

/** Whether a fixture config runs in this mode: every config normally, the representative ones in quick mode. */
export function runsFixtureConfig(builder: string, config: string): boolean {
  return !QUICK || REPRESENTATIVE_CONFIGS.some(([b, c]) => b === builder && c === config);
}
