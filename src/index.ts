// keras-applications: Keras's pretrained ImageNet models on TensorFlow.js. The public API, by section.

// ---- The models: one builder per keras.applications class, and their options --------------------
export { vgg16, vgg19 } from './applications/vgg';
export { resnet50, resnet101, resnet152, resnet50V2, resnet101V2, resnet152V2 } from './applications/resnet';
export { xception } from './applications/xception';
export { densenet121, densenet169, densenet201 } from './applications/densenet';
export { inceptionV3 } from './applications/inception-v3';
export { inceptionResNetV2 } from './applications/inception-resnet-v2';
export { nasnet, nasnetMobile, nasnetLarge } from './applications/nasnet';
export type { NASNetConfig, NASNetOptions } from './applications/nasnet';
export { mobilenet, MOBILENET_CHECKPOINTS } from './applications/mobilenet';
export type { MobileNetOptions } from './applications/mobilenet';
export { mobilenetV2, MOBILENET_V2_CHECKPOINTS } from './applications/mobilenet-v2';
export type { MobileNetV2Options } from './applications/mobilenet-v2';
export { mobilenetV3Small, mobilenetV3Large, MOBILENET_V3_CHECKPOINTS } from './applications/mobilenet-v3';
export type { MobileNetV3Options } from './applications/mobilenet-v3';
export type { PublishedCheckpoint } from './applications/mobilenet-common';
export { efficientNetB0, efficientNetB1, efficientNetB2, efficientNetB3, efficientNetB4, efficientNetB5, efficientNetB6, efficientNetB7 } from './applications/efficientnet';
export { efficientNetV2B0, efficientNetV2B1, efficientNetV2B2, efficientNetV2B3, efficientNetV2S, efficientNetV2M, efficientNetV2L } from './applications/efficientnet-v2';
export type { EfficientNetV2Options } from './applications/efficientnet-v2';
export { convNeXtTiny, convNeXtSmall, convNeXtBase, convNeXtLarge, convNeXtXLarge } from './applications/convnext';
export type { ConvNeXtOptions } from './applications/convnext';
export { regnetX002, regnetX004, regnetX006, regnetX008, regnetX016, regnetX032, regnetX040, regnetX064, regnetX080, regnetX120, regnetX160, regnetX320, regnetY002, regnetY004, regnetY006, regnetY008, regnetY016, regnetY032, regnetY040, regnetY064, regnetY080, regnetY120, regnetY160, regnetY320 } from './applications/regnet';
export type { RegNetName, RegNetOptions } from './applications/regnet';
export { resnetRS50, resnetRS101, resnetRS152, resnetRS200, resnetRS270, resnetRS350, resnetRS420, RESNET_RS_WEIGHT_VARIANTS } from './applications/resnet-rs';
export type { ResNetRSName, ResNetRSOptions } from './applications/resnet-rs';
export { resnext50, resnext101 } from './applications/resnext';
export type { ResNeXtOptions } from './applications/resnext';
export { musicTaggerCRNN, MELGRAM_SHAPE, MSD_WEIGHTS } from './applications/music-tagger-crnn';
export type { MusicTaggerOptions } from './applications/music-tagger-crnn';
export type { ApplicationOptions, InputShape, Pooling } from './applications/types';

// ---- The registry, Keras's imagenet_utils, and the official files -------------------------------
export { applications, getApplication, preprocessInput } from './applications/registry';
export type {
  AnyApplicationEntry,
  ApplicationEntry,
  ApplicationMetadata,
  ApplicationName,
  AudioApplicationEntry,
} from './applications/registry';
export { obtainInputShape } from './applications/imagenet-utils';
export { preprocessWithMode } from './applications/imagenet-utils';
export { decodePredictions, imagenetClass } from './applications/imagenet-utils';
export type { PixelArray, PreprocessMode } from './applications/imagenet-utils';
export type { ImagenetClass, ImagenetPrediction } from './applications/imagenet-utils';
export { officialWeights } from './applications/official-weights';
export type { OfficialWeights, WeightsFileRef } from './applications/official-weights';

// ---- One-line classification and features -------------------------------------------------------
export { classify, clearModelCache, loadClassifier } from './classify';
export type { ClassifierModelOptions, ClassifyInput, ClassifyOptions, TagMusicOptions } from './classify';
export { createFeatureModel, featureExtractor, FEATURE_STRIDES } from './features';
export type { FeatureExtractor, FeatureInfo, FeatureModel, FeatureModelOptions } from './features';

// ---- Images -------------------------------------------------------------------------------------
export { imageBatch, imgToArray, loadImage, loadImageBatch, loadImageTensor } from './image/image';
export { DEFAULT_MAX_IMAGE_BYTES, PILLOW_MAX_IMAGE_PIXELS } from './image/image-limits';
export type {
  BrowserImage,
  ColorMode,
  DataFormat,
  DecodedImage,
  ImageDataLike,
  ImageDtype,
  ImageSource,
  ImgToArrayOptions,
  Interpolation,
  LoadImageOptions,
} from './image/image';

// ---- Audio (MusicTaggerCRNN) --------------------------------------------------------------------
export { computeMelgram, decodeAudio } from './audio/melgram';
export type { AudioSource, DecodedAudio } from './audio/melgram';
export { decodeMusicTags, MUSIC_TAGS } from './audio/music-tags';
export type { MusicTag } from './audio/music-tags';

// ---- Data sets and augmentation -----------------------------------------------------------------
export { IMAGE_EXTENSIONS, imageDatasetFromDirectory } from './data/dataset';
export type { DatasetInterpolation, ImageBatch, ImageDataset, ImageDatasetOptions, LabelMode, Subset } from './data/dataset';
export { randomBrightness, randomContrast, randomCrop, randomFlip } from './data/augment';
export type { Factor, FlipMode, RandomCropOptions, RandomFlipOptions, RandomIntensityOptions, RandomOptions } from './data/augment';
export { seededRandom, shuffled } from './data/seeded-random';
export type { RandomSource } from './data/seeded-random';

// ---- Weights: reading, downloading, applying, saving --------------------------------------------
export { loadWeights, readWeightsSource } from './weights/apply';
export type { LoadWeightsOptions, WeightsSource } from './weights/apply';
export { readWeights, readWeightsFile } from './weights/h5';
export type { LayerWeights, WeightTensor, WeightsFile } from './weights/types';
export { defaultCacheDir, fetchBytes, getFile } from './weights/download';
export type { DownloadProgress, FetchBytesOptions, GetFileOptions, StreamOptions } from './weights/download';
export { MIRROR_ENV_VAR, resolveWeightsFile } from './weights/source';
export { BROWSER_CACHE_NAME, browserWeightsCache, fetchWeightsInBrowser } from './weights/browser-cache';
export type { BrowserWeightsOptions } from './weights/browser-cache';
export type { WeightsDownloadOptions, WeightsFileSource } from './weights/source';
export { saveWeights, writeLegacyWeights } from './weights/save';
export type { WriteLegacyWeightsOptions } from './weights/save';
export { loadModel, modelFiles, saveModel } from './weights/model-files';
export { loadKerasModel } from './models/load-keras-model';
export { kerasModelBytes, saveKerasModel } from './models/save-keras-model';
export { convertKeras1Weights, isKeras1File, keras1Kernels } from './weights/keras1';
export type { ConvertKeras1Options, Keras1Kernels, Keras1Target } from './weights/keras1';

// ---- Transfer learning --------------------------------------------------------------------------
export { freeze, unfreeze } from './transfer/freeze';
export type { LayerRange, UnfreezeOptions } from './transfer/freeze';
export { withNewHead } from './transfer/head';
export type { HeadActivation, HeadPooling, NewHeadOptions } from './transfer/head';
export { computeFeatures, loadFeatures, saveFeatures } from './transfer/bottleneck';
export type { BottleneckFeatures, ComputeFeaturesOptions } from './transfer/bottleneck';

// ---- Inference engines --------------------------------------------------------------------------
export { compileForInference, DEVICE_ENV_VAR, ENGINE_ENV_VAR } from './inference/index';
export { DEVICES } from './inference/devices';
export type { Device, DeviceChoice } from './inference/devices';
export type { CompileForInferenceOptions, EngineChoice } from './inference/index';
export type { InferenceEngine, Predictor } from './inference/types';
export { fusedPredictor } from './inference/fused';
export type { FusedPredictor, FusionSummary } from './inference/fused';
export { exportOnnx, OnnxExportError } from './inference/onnx-export';
export { onnxPredictor, OnnxRuntimeUnavailableError } from './inference/onnx-runtime';
export type { OnnxPredictor, OnnxPredictorOptions } from './inference/onnx-runtime';

// ---- Backends -----------------------------------------------------------------------------------
export { ensureBackend, getBackendChoice, selectBackend } from './backend';
export type { BackendChoice, BackendName } from './backend';
export { useThreadedWasmBackend } from './backend/wasm-threads';
export { WASM_TRAINING_KERNELS } from './backend/wasm-training-kernels';

// ---- Custom layers Keras needs and tfjs lacks (registered for serialization) --------------------
export { Normalization } from './layers/normalization';
export { LayerScale } from './layers/layer-scale';
export { GroupedConv2D } from './layers/grouped-conv2d';
export { LambdaSum } from './layers/lambda-sum';
export { CustomScaleLayer } from './layers/custom-scale-layer';
export { isFrozenBatchNormalization } from './layers/batch-normalization';

// ---- Errors -------------------------------------------------------------------------------------
export { ArgumentError, DownloadError, FileWriteError, KerasApplicationsError, UnsupportedModelError, WeightsFileError, WeightsMismatchError } from './errors';
