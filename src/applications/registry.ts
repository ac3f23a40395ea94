// One table of every application: its builder, sizes, preprocessing, official files and the figures
// from the Keras documentation (keras.io/api/applications), keyed by the Keras class name.
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { ArgumentError } from '../errors';
import { preprocessWithMode, type PixelArray, type PreprocessMode } from './imagenet-utils';
import type { ApplicationOptions } from './types';
import { officialWeights, type OfficialWeights } from './official-weights';
import { resnet101, resnet101V2, resnet152, resnet152V2, resnet50, resnet50V2 } from './resnet';
import { vgg16, vgg19 } from './vgg';
import { xception } from './xception';
import { densenet121, densenet169, densenet201 } from './densenet';
import { inceptionV3 } from './inception-v3';
import { inceptionResNetV2 } from './inception-resnet-v2';
import { nasnetLarge, nasnetMobile, nasnetOfficialWeights } from './nasnet';
import { mobilenet, MOBILENET_CHECKPOINTS } from './mobilenet';
import type { PublishedCheckpoint } from './mobilenet-common';
import { mobilenetV2, MOBILENET_V2_CHECKPOINTS } from './mobilenet-v2';
import { mobilenetV3Large, mobilenetV3Small, MOBILENET_V3_CHECKPOINTS } from './mobilenet-v3';
import { efficientNetB0, efficientNetB1, efficientNetB2, efficientNetB3, efficientNetB4, efficientNetB5, efficientNetB6, efficientNetB7 } from './efficientnet';
import { efficientNetV2B0, efficientNetV2B1, efficientNetV2B2, efficientNetV2B3, efficientNetV2L, efficientNetV2M, efficientNetV2S } from './efficientnet-v2';
import { convNeXtBase, convNeXtLarge, convNeXtSmall, convNeXtTiny, convNeXtXLarge } from './convnext';
import { regnetX002, regnetX004, regnetX006, regnetX008, regnetX016, regnetX032, regnetX040, regnetX064, regnetX080, regnetX120, regnetX160, regnetX320, regnetY002, regnetY004, regnetY006, regnetY008, regnetY016, regnetY032, regnetY040, regnetY064, regnetY080, regnetY120, regnetY160, regnetY320 } from './regnet';
import { resnetRS50, resnetRS101, resnetRS152, resnetRS200, resnetRS270, resnetRS350, resnetRS420 } from './resnet-rs';
import { resnext50, resnext101 } from './resnext';
import { MELGRAM_SHAPE, MSD_WEIGHTS, musicTaggerCRNN, type MusicTaggerOptions } from './music-tagger-crnn';

export interface ApplicationMetadata {
  /** Size of the official weights with the top, in MB (Keras docs; absent where Keras publishes none). */
  sizeMB?: number;
  /** ImageNet validation accuracy of the official weights (Keras docs), 0–1; absent where none is published. */
  top1?: number;
  top5?: number;
  /** Parameters with the top (exact, as Keras counts them). */
  parameters: number;
  /** Depth as the Keras docs count it. */
  depth?: number;
  /** The paper the architecture comes from. */
  reference: string;
  /** The other official configurations (alpha, size) with their published accuracy, where Keras lists them. */
  checkpoints?: readonly PublishedCheckpoint[];
}

/** An ImageNet image classifier: every keras.applications builder. */
export interface ApplicationEntry {
  kind: 'image';
  /** The Keras class name, e.g. `'ResNet50'`. */
  kerasName: string;
  /** The Python module it lives in, e.g. `'resnet'`. */
  module: string;
  build: (options?: ApplicationOptions) => Promise<tfl.LayersModel>;
  /** Input height/width of the official weights. */
  defaultSize: number;
  /** Smallest height/width accepted with `includeTop: false`. */
  minSize: number;
  /** Which `preprocessInput` mode the model expects. */
  preprocessing: PreprocessMode;
  weights: OfficialWeights;
  metadata: ApplicationMetadata;
}

/** A music tagger (the first Keras applications' MusicTaggerCRNN): tags a mel-spectrogram of a clip. */
export interface AudioApplicationEntry {
  kind: 'audio';
  kerasName: string;
  module: string;
  build: (options?: MusicTaggerOptions) => Promise<tfl.LayersModel>;
  /** The model's input: `computeMelgram`'s mel bands × frames × 1. */
  inputShape: readonly number[];
  /** `computeMelgram` does all the preprocessing. */
  preprocessing: 'none';
  weights: OfficialWeights;
  metadata: { parameters: number; reference: string; tags: number };
}

export type AnyApplicationEntry = ApplicationEntry | AudioApplicationEntry;

const VGG_PAPER = 'Very Deep Convolutional Networks for Large-Scale Image Recognition (Simonyan & Zisserman, ICLR 2015)';
const RESNET_PAPER = 'Deep Residual Learning for Image Recognition (He et al., CVPR 2016)';
const RESNET_V2_PAPER = 'Identity Mappings in Deep Residual Networks (He et al., ECCV 2016)';
const XCEPTION_PAPER = 'Xception: Deep Learning with Depthwise Separable Convolutions (Chollet, CVPR 2017)';
const INCEPTION_V3_PAPER = 'Rethinking the Inception Architecture for Computer Vision (Szegedy et al., CVPR 2016)';
const INCEPTION_RESNET_V2_PAPER =
  'Inception-v4, Inception-ResNet and the Impact of Residual Connections on Learning (Szegedy et al., AAAI 2017)';
const DENSENET_PAPER = 'Densely Connected Convolutional Networks (Huang et al., CVPR 2017)';
const MOBILENET_PAPER = 'MobileNets: Efficient Convolutional Neural Networks for Mobile Vision Applications (Howard et al., 2017)';
const MOBILENET_V2_PAPER = 'MobileNetV2: Inverted Residuals and Linear Bottlenecks (Sandler et al., CVPR 2018)';
const MOBILENET_V3_PAPER = 'Searching for MobileNetV3 (Howard et al., ICCV 2019)';
const EFFICIENTNET_PAPER = 'EfficientNet: Rethinking Model Scaling for Convolutional Neural Networks (Tan & Le, ICML 2019)';
const EFFICIENTNET_V2_PAPER = 'EfficientNetV2: Smaller Models and Faster Training (Tan & Le, ICML 2021)';
const CONVNEXT_PAPER = 'A ConvNet for the 2020s (Liu et al., CVPR 2022)';
const REGNET_PAPER = 'Designing Network Design Spaces (Radosavovic et al., CVPR 2020)';
const RESNET_RS_PAPER = 'Revisiting ResNets: Improved Training and Scaling Strategies (Bello et al., NeurIPS 2021)';
const RESNEXT_PAPER = 'Aggregated Residual Transformations for Deep Neural Networks (Xie et al., CVPR 2017)';
const NASNET_PAPER = 'Learning Transferable Architectures for Scalable Image Recognition (Zoph et al., CVPR 2018)';

/** An entry with the defaults most builders share; `overrides` for sizes and file names that differ. */
function entry(
  kerasName: string,
  module: string,
  build: ApplicationEntry['build'],
  preprocessing: PreprocessMode,
  metadata: ApplicationMetadata,
  overrides: Partial<Pick<ApplicationEntry, 'defaultSize' | 'minSize' | 'weights'>> = {},
): ApplicationEntry {
  const weights = overrides.weights ?? officialWeights(kerasName);
  return { kind: 'image', kerasName, module, build, defaultSize: 224, minSize: 32, preprocessing, metadata, ...overrides, weights };
}

/** Every application, keyed by its Keras class name. */
export const applications = {
  VGG16: entry('VGG16', 'vgg16', vgg16, 'caffe', { sizeMB: 528, top1: 0.713, top5: 0.901, parameters: 138_357_544, depth: 16, reference: VGG_PAPER }),
  VGG19: entry('VGG19', 'vgg19', vgg19, 'caffe', { sizeMB: 549, top1: 0.713, top5: 0.9, parameters: 143_667_240, depth: 19, reference: VGG_PAPER }),
  ResNet50: entry('ResNet50', 'resnet', resnet50, 'caffe', { sizeMB: 98, top1: 0.749, top5: 0.921, parameters: 25_636_712, depth: 107, reference: RESNET_PAPER }),
  ResNet101: entry('ResNet101', 'resnet', resnet101, 'caffe', { sizeMB: 171, top1: 0.764, top5: 0.928, parameters: 44_707_176, depth: 209, reference: RESNET_PAPER }),
  ResNet152: entry('ResNet152', 'resnet', resnet152, 'caffe', { sizeMB: 232, top1: 0.766, top5: 0.931, parameters: 60_419_944, depth: 311, reference: RESNET_PAPER }),
  ResNet50V2: entry('ResNet50V2', 'resnet_v2', resnet50V2, 'tf', { sizeMB: 98, top1: 0.76, top5: 0.93, parameters: 25_613_800, depth: 103, reference: RESNET_V2_PAPER }),
  ResNet101V2: entry('ResNet101V2', 'resnet_v2', resnet101V2, 'tf', { sizeMB: 171, top1: 0.772, top5: 0.938, parameters: 44_675_560, depth: 205, reference: RESNET_V2_PAPER }),
  ResNet152V2: entry('ResNet152V2', 'resnet_v2', resnet152V2, 'tf', { sizeMB: 232, top1: 0.78, top5: 0.942, parameters: 60_380_648, depth: 307, reference: RESNET_V2_PAPER }),
  Xception: entry('Xception', 'xception', xception, 'tf', { sizeMB: 88, top1: 0.79, top5: 0.945, parameters: 22_910_480, depth: 81, reference: XCEPTION_PAPER }, { defaultSize: 299, minSize: 71 }),
  InceptionV3: entry('InceptionV3', 'inception_v3', inceptionV3, 'tf', { sizeMB: 92, top1: 0.779, top5: 0.937, parameters: 23_851_784, depth: 189, reference: INCEPTION_V3_PAPER }, { defaultSize: 299, minSize: 75 }),
  InceptionResNetV2: entry('InceptionResNetV2', 'inception_resnet_v2', inceptionResNetV2, 'tf', { sizeMB: 215, top1: 0.803, top5: 0.953, parameters: 55_873_736, depth: 449, reference: INCEPTION_RESNET_V2_PAPER }, { defaultSize: 299, minSize: 75 }),
  DenseNet121: entry('DenseNet121', 'densenet', densenet121, 'torch', { sizeMB: 33, top1: 0.75, top5: 0.923, parameters: 8_062_504, depth: 242, reference: DENSENET_PAPER }),
  DenseNet169: entry('DenseNet169', 'densenet', densenet169, 'torch', { sizeMB: 57, top1: 0.762, top5: 0.932, parameters: 14_307_880, depth: 338, reference: DENSENET_PAPER }),
  DenseNet201: entry('DenseNet201', 'densenet', densenet201, 'torch', { sizeMB: 80, top1: 0.773, top5: 0.936, parameters: 20_242_984, depth: 402, reference: DENSENET_PAPER }),
  NASNetMobile: entry('NASNetMobile', 'nasnet', nasnetMobile, 'tf', { sizeMB: 23, top1: 0.744, top5: 0.919, parameters: 5_326_716, depth: 389, reference: NASNET_PAPER }, { weights: nasnetOfficialWeights.NASNetMobile }),
  NASNetLarge: entry('NASNetLarge', 'nasnet', nasnetLarge, 'tf', { sizeMB: 343, top1: 0.825, top5: 0.96, parameters: 88_949_818, depth: 533, reference: NASNET_PAPER }, { defaultSize: 331, weights: nasnetOfficialWeights.NASNetLarge }),
  MobileNet: entry('MobileNet', 'mobilenet', mobilenet, 'tf', { sizeMB: 16, top1: 0.704, top5: 0.895, parameters: 4_253_864, depth: 55, reference: MOBILENET_PAPER, checkpoints: MOBILENET_CHECKPOINTS }, { weights: officialWeights('MobileNet(alpha=1.0, rows=224)') }),
  MobileNetV2: entry('MobileNetV2', 'mobilenet_v2', mobilenetV2, 'tf', { sizeMB: 14, top1: 0.713, top5: 0.901, parameters: 3_538_984, depth: 105, reference: MOBILENET_V2_PAPER, checkpoints: MOBILENET_V2_CHECKPOINTS }, { weights: officialWeights('MobileNetV2(alpha=1.0, rows=224)') }),
  MobileNetV3Small: entry('MobileNetV3Small', 'mobilenet_v3', mobilenetV3Small, 'none', { top1: 0.681, parameters: 2_554_968, reference: MOBILENET_V3_PAPER, checkpoints: MOBILENET_V3_CHECKPOINTS.small }, { weights: officialWeights('MobileNetV3Small(alpha=1.0)') }),
  MobileNetV3Large: entry('MobileNetV3Large', 'mobilenet_v3', mobilenetV3Large, 'none', { top1: 0.756, parameters: 5_507_432, reference: MOBILENET_V3_PAPER, checkpoints: MOBILENET_V3_CHECKPOINTS.large }, { weights: officialWeights('MobileNetV3Large(alpha=1.0)') }),
  EfficientNetB0: entry('EfficientNetB0', 'efficientnet', efficientNetB0, 'none', { sizeMB: 29, top1: 0.771, top5: 0.933, parameters: 5_330_571, depth: 132, reference: EFFICIENTNET_PAPER }),
  EfficientNetB1: entry('EfficientNetB1', 'efficientnet', efficientNetB1, 'none', { sizeMB: 31, top1: 0.791, top5: 0.944, parameters: 7_856_239, depth: 186, reference: EFFICIENTNET_PAPER }, { defaultSize: 240 }),
  EfficientNetB2: entry('EfficientNetB2', 'efficientnet', efficientNetB2, 'none', { sizeMB: 36, top1: 0.801, top5: 0.949, parameters: 9_177_569, depth: 186, reference: EFFICIENTNET_PAPER }, { defaultSize: 260 }),
  EfficientNetB3: entry('EfficientNetB3', 'efficientnet', efficientNetB3, 'none', { sizeMB: 48, top1: 0.816, top5: 0.957, parameters: 12_320_535, depth: 210, reference: EFFICIENTNET_PAPER }, { defaultSize: 300 }),
  EfficientNetB4: entry('EfficientNetB4', 'efficientnet', efficientNetB4, 'none', { sizeMB: 75, top1: 0.829, top5: 0.964, parameters: 19_466_823, depth: 258, reference: EFFICIENTNET_PAPER }, { defaultSize: 380 }),
  EfficientNetB5: entry('EfficientNetB5', 'efficientnet', efficientNetB5, 'none', { sizeMB: 118, top1: 0.836, top5: 0.967, parameters: 30_562_527, depth: 312, reference: EFFICIENTNET_PAPER }, { defaultSize: 456 }),
  EfficientNetB6: entry('EfficientNetB6', 'efficientnet', efficientNetB6, 'none', { sizeMB: 166, top1: 0.84, top5: 0.968, parameters: 43_265_143, depth: 360, reference: EFFICIENTNET_PAPER }, { defaultSize: 528 }),
  EfficientNetB7: entry('EfficientNetB7', 'efficientnet', efficientNetB7, 'none', { sizeMB: 256, top1: 0.843, top5: 0.97, parameters: 66_658_687, depth: 438, reference: EFFICIENTNET_PAPER }, { defaultSize: 600 }),
  EfficientNetV2B0: entry('EfficientNetV2B0', 'efficientnet_v2', efficientNetV2B0, 'none', { sizeMB: 29, top1: 0.787, top5: 0.943, parameters: 7_200_312, reference: EFFICIENTNET_V2_PAPER }),
  EfficientNetV2B1: entry('EfficientNetV2B1', 'efficientnet_v2', efficientNetV2B1, 'none', { sizeMB: 34, top1: 0.798, top5: 0.95, parameters: 8_212_124, reference: EFFICIENTNET_V2_PAPER }, { defaultSize: 240 }),
  EfficientNetV2B2: entry('EfficientNetV2B2', 'efficientnet_v2', efficientNetV2B2, 'none', { sizeMB: 42, top1: 0.805, top5: 0.951, parameters: 10_178_374, reference: EFFICIENTNET_V2_PAPER }, { defaultSize: 260 }),
  EfficientNetV2B3: entry('EfficientNetV2B3', 'efficientnet_v2', efficientNetV2B3, 'none', { sizeMB: 59, top1: 0.82, top5: 0.958, parameters: 14_467_622, reference: EFFICIENTNET_V2_PAPER }, { defaultSize: 300 }),
  EfficientNetV2S: entry('EfficientNetV2S', 'efficientnet_v2', efficientNetV2S, 'none', { sizeMB: 88, top1: 0.839, top5: 0.967, parameters: 21_612_360, reference: EFFICIENTNET_V2_PAPER }, { defaultSize: 384 }),
  EfficientNetV2M: entry('EfficientNetV2M', 'efficientnet_v2', efficientNetV2M, 'none', { sizeMB: 220, top1: 0.853, top5: 0.974, parameters: 54_431_388, reference: EFFICIENTNET_V2_PAPER }, { defaultSize: 480 }),
  EfficientNetV2L: entry('EfficientNetV2L', 'efficientnet_v2', efficientNetV2L, 'none', { sizeMB: 479, top1: 0.857, top5: 0.975, parameters: 119_027_848, reference: EFFICIENTNET_V2_PAPER }, { defaultSize: 480 }),
  ConvNeXtTiny: entry('ConvNeXtTiny', 'convnext', convNeXtTiny, 'none', { sizeMB: 109.42, top1: 0.813, parameters: 28_589_128, reference: CONVNEXT_PAPER }),
  ConvNeXtSmall: entry('ConvNeXtSmall', 'convnext', convNeXtSmall, 'none', { sizeMB: 192.29, top1: 0.823, parameters: 50_223_688, reference: CONVNEXT_PAPER }),
  ConvNeXtBase: entry('ConvNeXtBase', 'convnext', convNeXtBase, 'none', { sizeMB: 338.58, top1: 0.853, parameters: 88_591_464, reference: CONVNEXT_PAPER }),
  ConvNeXtLarge: entry('ConvNeXtLarge', 'convnext', convNeXtLarge, 'none', { sizeMB: 755.07, top1: 0.863, parameters: 197_767_336, reference: CONVNEXT_PAPER }),
  ConvNeXtXLarge: entry('ConvNeXtXLarge', 'convnext', convNeXtXLarge, 'none', { sizeMB: 1310, top1: 0.867, parameters: 350_196_968, reference: CONVNEXT_PAPER }),
  ResNeXt50: entry('ResNeXt50', 'resnext', resnext50, 'torch', { top1: 0.7774, top5: 0.9381, parameters: 25_097_128, reference: RESNEXT_PAPER }, { weights: officialWeights('ResNeXt50') }),
  ResNeXt101: entry('ResNeXt101', 'resnext', resnext101, 'torch', { top1: 0.7873, top5: 0.94294, parameters: 44_315_560, reference: RESNEXT_PAPER }, { weights: officialWeights('ResNeXt101') }),
  RegNetX002: entry('RegNetX002', 'regnet', regnetX002, 'none', { parameters: 2_705_640, reference: REGNET_PAPER }, { weights: officialWeights('RegNetX002') }),
  RegNetX004: entry('RegNetX004', 'regnet', regnetX004, 'none', { parameters: 5_194_184, reference: REGNET_PAPER }, { weights: officialWeights('RegNetX004') }),
  RegNetX006: entry('RegNetX006', 'regnet', regnetX006, 'none', { parameters: 6_229_320, reference: REGNET_PAPER }, { weights: officialWeights('RegNetX006') }),
  RegNetX008: entry('RegNetX008', 'regnet', regnetX008, 'none', { parameters: 7_296_968, reference: REGNET_PAPER }, { weights: officialWeights('RegNetX008') }),
  RegNetX016: entry('RegNetX016', 'regnet', regnetX016, 'none', { parameters: 9_233_640, reference: REGNET_PAPER }, { weights: officialWeights('RegNetX016') }),
  RegNetX032: entry('RegNetX032', 'regnet', regnetX032, 'none', { parameters: 15_359_112, reference: REGNET_PAPER }, { weights: officialWeights('RegNetX032') }),
  RegNetX040: entry('RegNetX040', 'regnet', regnetX040, 'none', { parameters: 22_194_312, reference: REGNET_PAPER }, { weights: officialWeights('RegNetX040') }),
  RegNetX064: entry('RegNetX064', 'regnet', regnetX064, 'none', { parameters: 26_283_464, reference: REGNET_PAPER }, { weights: officialWeights('RegNetX064') }),
  RegNetX080: entry('RegNetX080', 'regnet', regnetX080, 'none', { parameters: 39_663_112, reference: REGNET_PAPER }, { weights: officialWeights('RegNetX080') }),
  RegNetX120: entry('RegNetX120', 'regnet', regnetX120, 'none', { parameters: 46_202_440, reference: REGNET_PAPER }, { weights: officialWeights('RegNetX120') }),
  RegNetX160: entry('RegNetX160', 'regnet', regnetX160, 'none', { parameters: 54_389_704, reference: REGNET_PAPER }, { weights: officialWeights('RegNetX160') }),
  RegNetX320: entry('RegNetX320', 'regnet', regnetX320, 'none', { parameters: 107_973_576, reference: REGNET_PAPER }, { weights: officialWeights('RegNetX320') }),
  RegNetY002: entry('RegNetY002', 'regnet', regnetY002, 'none', { parameters: 3_183_844, reference: REGNET_PAPER }, { weights: officialWeights('RegNetY002') }),
  RegNetY004: entry('RegNetY004', 'regnet', regnetY004, 'none', { parameters: 4_371_296, reference: REGNET_PAPER }, { weights: officialWeights('RegNetY004') }),
  RegNetY006: entry('RegNetY006', 'regnet', regnetY006, 'none', { parameters: 6_084_920, reference: REGNET_PAPER }, { weights: officialWeights('RegNetY006') }),
  RegNetY008: entry('RegNetY008', 'regnet', regnetY008, 'none', { parameters: 6_293_056, reference: REGNET_PAPER }, { weights: officialWeights('RegNetY008') }),
  RegNetY016: entry('RegNetY016', 'regnet', regnetY016, 'none', { parameters: 11_255_102, reference: REGNET_PAPER }, { weights: officialWeights('RegNetY016') }),
  RegNetY032: entry('RegNetY032', 'regnet', regnetY032, 'none', { parameters: 19_502_498, reference: REGNET_PAPER }, { weights: officialWeights('RegNetY032') }),
  RegNetY040: entry('RegNetY040', 'regnet', regnetY040, 'none', { parameters: 20_708_928, reference: REGNET_PAPER }, { weights: officialWeights('RegNetY040') }),
  RegNetY064: entry('RegNetY064', 'regnet', regnetY064, 'none', { parameters: 30_665_684, reference: REGNET_PAPER }, { weights: officialWeights('RegNetY064') }),
  RegNetY080: entry('RegNetY080', 'regnet', regnetY080, 'none', { parameters: 39_265_812, reference: REGNET_PAPER }, { weights: officialWeights('RegNetY080') }),
  RegNetY120: entry('RegNetY120', 'regnet', regnetY120, 'none', { parameters: 51_918_928, reference: REGNET_PAPER }, { weights: officialWeights('RegNetY120') }),
  RegNetY160: entry('RegNetY160', 'regnet', regnetY160, 'none', { parameters: 83_712_956, reference: REGNET_PAPER }, { weights: officialWeights('RegNetY160') }),
  RegNetY320: entry('RegNetY320', 'regnet', regnetY320, 'none', { parameters: 145_205_058, reference: REGNET_PAPER }, { weights: officialWeights('RegNetY320') }),
  ResNetRS50: entry('ResNetRS50', 'resnet_rs', resnetRS50, 'none', { parameters: 35_745_288, reference: RESNET_RS_PAPER }, { weights: officialWeights('ResNetRS50') }),
  ResNetRS101: entry('ResNetRS101', 'resnet_rs', resnetRS101, 'none', { parameters: 63_724_296, reference: RESNET_RS_PAPER }, { weights: officialWeights('ResNetRS101') }),
  ResNetRS152: entry('ResNetRS152', 'resnet_rs', resnetRS152, 'none', { parameters: 86_773_256, reference: RESNET_RS_PAPER }, { weights: officialWeights('ResNetRS152') }),
  ResNetRS200: entry('ResNetRS200', 'resnet_rs', resnetRS200, 'none', { parameters: 93_386_248, reference: RESNET_RS_PAPER }, { weights: officialWeights('ResNetRS200') }),
  ResNetRS270: entry('ResNetRS270', 'resnet_rs', resnetRS270, 'none', { parameters: 130_104_520, reference: RESNET_RS_PAPER }, { weights: officialWeights('ResNetRS270') }),
  ResNetRS350: entry('ResNetRS350', 'resnet_rs', resnetRS350, 'none', { parameters: 164_268_360, reference: RESNET_RS_PAPER }, { weights: officialWeights('ResNetRS350') }),
  ResNetRS420: entry('ResNetRS420', 'resnet_rs', resnetRS420, 'none', { parameters: 192_262_216, reference: RESNET_RS_PAPER }, { weights: officialWeights('ResNetRS420') }),
  MusicTaggerCRNN: {
    kind: 'audio',
    kerasName: 'MusicTaggerCRNN',
    module: 'music_tagger_crnn',
    build: musicTaggerCRNN,
    inputShape: MELGRAM_SHAPE,
    preprocessing: 'none',
    weights: { top: MSD_WEIGHTS, notop: MSD_WEIGHTS },
    metadata: {
      parameters: 400_562,
      reference: 'Convolutional Recurrent Neural Networks for Music Classification (Choi, Fazekas, Sandler, Cho, ICASSP 2017)',
      tags: 50,
    },
  },
} satisfies Record<string, AnyApplicationEntry>;

export type ApplicationName = keyof typeof applications;

/** The registry entry for a Keras class name; the error lists the known names. */
export function getApplication(name: string): AnyApplicationEntry {
  const found = (applications as Record<string, AnyApplicationEntry>)[name];
  if (!found) throw new ArgumentError(`Unknown application '${name}'. Known: ${Object.keys(applications).join(', ')}`);
  return found;
}

const MODES: readonly string[] = ['caffe', 'tf', 'torch', 'none'];

/**
 * Keras's `preprocess_input` for a model (`'ResNet50'`) or a mode (`'caffe'`, `'tf'`, `'torch'`, `'none'`).
 * Takes a 3-D/4-D channels-last tensor or flat RGB pixels; returns a new float32 tensor or array and
 * never modifies its input.
 */
export function preprocessInput(x: tf.Tensor, modeOrModelName: PreprocessMode | ApplicationName | string): tf.Tensor;
export function preprocessInput(x: PixelArray, modeOrModelName: PreprocessMode | ApplicationName | string): Float32Array;
export function preprocessInput(x: tf.Tensor | PixelArray, modeOrModelName: string): tf.Tensor | Float32Array {
  const mode = MODES.includes(modeOrModelName) ? (modeOrModelName as PreprocessMode) : getApplication(modeOrModelName).preprocessing;
  return x instanceof tf.Tensor ? preprocessWithMode(x, mode) : preprocessWithMode(x, mode);
}
