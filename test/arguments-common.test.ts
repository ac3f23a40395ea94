import { describe, expect, it } from 'vitest';
import { applications, type ApplicationEntry, type ApplicationName } from '../src/applications/registry';
import type { ApplicationOptions, InputShape } from '../src/applications/types';
import { argumentError, useOfflineKerasHome } from './helpers/offline-arguments';

// Keras's argument rules that every image application shares (imagenet_utils.obtain_input_shape, the classes and
// classifier-activation checks), checked for each one. Every call breaks a rule, so it fails before a model is
// built or a file is read; the cache is empty and offline mode is on in case one does not. Last, the few builds
// that show `pooling: 'max'` without the top.
useOfflineKerasHome('keras-args-common-');

const imageApplications = Object.values(applications).filter((entry): entry is ApplicationEntry => entry.kind === 'image');

interface Violation {
  options: ApplicationOptions;
  message: RegExp;
}

interface CommonRule {
  rule: string;
  /** Applications Keras does not hold to the rule: their own behaviour belongs to their family's tests. */
  exempt?: RegExp;
  violations(entry: ApplicationEntry): Violation[];
}

const shapeText = (shape: InputShape): string => JSON.stringify(shape).replace(/[[\]]/g, '\\$&');

const COMMON_RULES: CommonRule[] = [
  {
    rule: "the top with 'imagenet' weights needs the default size with 3 channels",
    // MobileNetV3 loads the 224 file at any size (with a warning), ResNetRS's files take any size of at least 32.
    exempt: /^(MobileNetV3|ResNetRS)/,
    violations: ({ defaultSize: size, minSize }) => {
      const wrongShapes: InputShape[] = [[size + 32, size + 32, 3], [minSize, minSize, 3], [size + 1, size, 3], [size, size - 1, 3]];
      return wrongShapes.map((inputShape) => ({
        options: { inputShape },
        message: new RegExp(`\`inputShape\` should be ${shapeText([size, size, 3])}.*${shapeText(inputShape)}`),
      }));
    },
  },
  {
    rule: 'inputs are at least the minimum size, with or without weights',
    violations: ({ minSize }) => {
      const tooSmall: InputShape[] = [[minSize - 1, minSize, 3], [minSize, minSize - 1, 3], [minSize - 1, minSize - 1, 3]];
      return tooSmall.flatMap((inputShape) =>
        (['imagenet', null] as const).map((weights) => ({
          options: { includeTop: false, weights, inputShape },
          message: new RegExp(`at least ${minSize}x${minSize}.*${shapeText(inputShape)}`),
        })),
      );
    },
  },
  {
    rule: "inputs have 3 channels with 'imagenet' weights",
    exempt: /^(MobileNetV3|ResNetRS)/,
    violations: ({ defaultSize: size }) =>
      [1, 4].map((channels) => {
        const inputShape: InputShape = [size, size, channels];
        return { options: { includeTop: false, inputShape }, message: new RegExp(`3 channels.*${shapeText(inputShape)}`) };
      }),
  },
  {
    rule: "classes must be 1000 with 'imagenet' weights and the top",
    violations: () =>
      [10, 1001].map((classes) => ({ options: { classes }, message: new RegExp(`\`classes\` should be 1000.*classes=${classes}`) })),
  },
  {
    rule: 'the top needs a static input shape',
    // MobileNetV3 keeps the size free with the top; ResNeXt needs a static size even without it, with its own message.
    exempt: /^(MobileNetV3|ResNeXt)/,
    violations: ({ defaultSize: size }) =>
      ([[null, null, 3], [size, null, 3]] as InputShape[]).map((inputShape) => ({
        options: { weights: null, inputShape },
        message: new RegExp(`static \`inputShape\`.*${shapeText(inputShape)}`),
      })),
  },
  {
    rule: 'the top with pretrained weights is softmax or logits only',
    // ResNeXt takes no classifierActivation at all.
    exempt: /^ResNeXt/,
    violations: () =>
      ['relu', 'sigmoid'].map((classifierActivation) => ({
        options: { classifierActivation },
        message: new RegExp(`Only \`null\` and \`softmax\`.*classifierActivation='${classifierActivation}'`),
      })),
  },
];

describe.each(COMMON_RULES)("Keras's common argument rule: $rule", ({ exempt, violations }) => {
  const heldToRule = imageApplications.filter((entry) => !exempt?.test(entry.kerasName));

  it.each(heldToRule)('$kerasName', async (entry) => {
    for (const { options, message } of violations(entry)) {
      expect(await argumentError(entry.build(options)), JSON.stringify(options)).toMatch(message);
    }
  });
});

// One build per family that checked this before (each at its smallest input; ResNet50 at a free, non-square size).
// Families that check more of such a build (EfficientNet, InceptionResNetV2, ResNetRS, RegNet, NASNet) keep it.
const MAX_POOLED_BUILDS: { kerasName: ApplicationName; inputShape?: InputShape; modelName: string; features: number; lastLayer: string }[] = [
  { kerasName: 'ResNet50', inputShape: [64, 96, 3], modelName: 'resnet50', features: 2048, lastLayer: 'max_pool' },
  { kerasName: 'Xception', modelName: 'xception', features: 2048, lastLayer: 'global_max_pooling2d' },
  { kerasName: 'InceptionV3', modelName: 'inception_v3', features: 2048, lastLayer: 'global_max_pooling2d' },
  { kerasName: 'DenseNet121', modelName: 'densenet121', features: 1024, lastLayer: 'max_pool' },
  { kerasName: 'ResNeXt50', modelName: 'resnext50', features: 2048, lastLayer: 'max_pool' },
];

describe("without weights or the top, `pooling: 'max'` gives one feature vector", () => {
  it.each(MAX_POOLED_BUILDS)('$kerasName', async ({ kerasName, inputShape, modelName, features, lastLayer }) => {
    const entry = imageApplications.find((candidate) => candidate.kerasName === kerasName)!;
    const model = await entry.build({ weights: null, includeTop: false, inputShape: inputShape ?? [entry.minSize, entry.minSize, 3], pooling: 'max' });
    expect(model.name).toBe(modelName);
    expect(model.outputs[0]!.shape).toEqual([null, features]);
    expect(model.layers.at(-1)!.name).toBe(lastLayer);
    model.dispose();
  });
});
