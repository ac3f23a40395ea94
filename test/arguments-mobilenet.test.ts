import * as tfl from '@tensorflow/tfjs-layers';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { mobilenet } from '../src/applications/mobilenet';
import { mobilenetV2 } from '../src/applications/mobilenet-v2';
import { mobilenetV3Large, mobilenetV3Small } from '../src/applications/mobilenet-v3';
import { downloadError } from './helpers/download-error';
import { argumentError, useOfflineKerasHome } from './helpers/offline-arguments';

// Keras's rules for the MobileNet family's own arguments. Nothing reaches the network: with 'imagenet' and
// an empty cache the build ends in a DownloadError that names the official file Keras would load.
useOfflineKerasHome('keras-args-mobilenet-');

async function officialFileWanted(build: Promise<unknown>): Promise<string> {
  return /Could not download (\S+) /.exec(await downloadError(build))![1]!;
}

function warnings(): () => string[] {
  const spy = vi.spyOn(console, 'warn').mockImplementation(() => {});
  return () => spy.mock.calls.map((call) => String(call[0]));
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('MobileNet arguments', () => {
  it('alpha must be a number that leaves every layer a filter', async () => {
    expect(await argumentError(mobilenet({ alpha: 0.01, weights: null }))).toMatch(/`alpha` must be a number >= 0.03125.*alpha=0.01/);
    expect(await argumentError(mobilenet({ alpha: '1' as never, weights: null }))).toContain("alpha='1'");
  });

  it('depthMultiplier must be a positive integer, and 1 with imagenet', async () => {
    expect(await argumentError(mobilenet({ depthMultiplier: 0, weights: null }))).toMatch(/`depthMultiplier` must be an integer >= 1.*depthMultiplier=0/);
    expect(await argumentError(mobilenet({ depthMultiplier: 1.5, weights: null }))).toContain('depthMultiplier=1.5');
    expect(await argumentError(mobilenet({ depthMultiplier: 2 }))).toMatch(/imagenet.*`depthMultiplier` must be 1.*depthMultiplier=2/);
  });

  it('dropout must be a rate between 0 and 1', async () => {
    expect(await argumentError(mobilenet({ dropout: 1.5, weights: null }))).toMatch(/`dropout` must be a number between 0 and 1.*dropout=1.5/);
  });

  it('alpha with imagenet: 0.25, 0.5, 0.75 or 1.0', async () => {
    expect(await argumentError(mobilenet({ alpha: 0.3 }))).toMatch(/imagenet.*one of 0.25, 0.5, 0.75, 1.0.*alpha=0.3/);
  });

  it('the top with imagenet takes a published square size, else only 224', async () => {
    expect(await officialFileWanted(mobilenet({ inputShape: [160, 160, 3] }))).toBe('mobilenet_1_0_160_tf.h5');
    expect(await argumentError(mobilenet({ inputShape: [100, 100, 3] }))).toMatch(/should be \[224,224,3\].*\[100,100,3\]/);
  });

  it('any other size loads the 224 file with a warning, said once per process as Python shows it', async () => {
    const warned = warnings();
    for (let build = 0; build < 2; build++) {
      expect(await officialFileWanted(mobilenet({ alpha: 0.5, includeTop: false, inputShape: [100, 120, 3] }))).toBe('mobilenet_5_0_224_tf_no_top.h5');
    }
    expect(warned()).toEqual([expect.stringMatching(/non-square.*Weights for input shape \(224, 224\)/)]);
  });

  it('options of other families are refused', async () => {
    expect(await argumentError(mobilenet({ minimalistic: true } as never))).toMatch(/Unknown option `minimalistic` for MobileNet/);
  });

  it('names the model after alpha and rows, as Keras', async () => {
    const model = await mobilenet({ alpha: 0.25, weights: null, includeTop: false, inputShape: [128, 128, 3] });
    expect(model.name).toBe('mobilenet_0.25_128');
    model.dispose();
  });
});

describe('MobileNetV2 arguments', () => {
  it('alpha must be positive; with imagenet one of the published widths', async () => {
    expect(await argumentError(mobilenetV2({ alpha: 0, weights: null }))).toMatch(/`alpha` must be a number > 0.*alpha=0/);
    expect(await argumentError(mobilenetV2({ alpha: 0.6 }))).toMatch(/one of 0.35, 0.5, 0.75, 1.0, 1.3, 1.4.*alpha=0.6/);
  });

  it('inputTensor and inputShape must agree', async () => {
    const inputTensor = tfl.input({ shape: [96, 96, 3] });
    expect(await argumentError(mobilenetV2({ inputTensor, inputShape: [96, 128, 3], weights: null }))).toMatch(
      /inputTensor.shape\[2\] must equal inputShape\[1\].*\[null,96,96,3\].*\[96,128,3\]/,
    );
  });

  it("the file follows alpha and the input size, also an inputTensor's", async () => {
    expect(await officialFileWanted(mobilenetV2({ alpha: 0.35, includeTop: false, inputShape: [96, 96, 3] }))).toBe(
      'mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.35_96_no_top.h5',
    );
    const inputTensor = tfl.input({ shape: [192, 192, 3] });
    expect(await officialFileWanted(mobilenetV2({ alpha: 1.3, inputTensor }))).toBe('mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.3_192.h5');
  });
});

describe('MobileNetV3 arguments', () => {
  it('alpha with imagenet: 0.75 or 1.0, only 1.0 when minimalistic', async () => {
    expect(await argumentError(mobilenetV3Small({ alpha: 0.5 }))).toMatch(/0.75 or 1.0.*alpha=0.5, minimalistic=false/);
    expect(await argumentError(mobilenetV3Large({ alpha: 0.75, minimalistic: true }))).toMatch(/alpha=0.75, minimalistic=true/);
    expect(await argumentError(mobilenetV3Large({ alpha: -1, weights: null }))).toMatch(/`alpha` must be a number > 0/);
  });

  it('minimalistic and includePreprocessing are booleans; dropoutRate at most 1', async () => {
    expect(await argumentError(mobilenetV3Small({ minimalistic: 'yes' as never, weights: null }))).toContain("minimalistic='yes'");
    expect(await argumentError(mobilenetV3Small({ includePreprocessing: 1 as never, weights: null }))).toContain('includePreprocessing=1');
    expect(await argumentError(mobilenetV3Small({ dropoutRate: 1.5, weights: null }))).toMatch(/`dropoutRate` must be a number <= 1.*dropoutRate=1.5/);
  });

  it('sizes below 32 are refused when both are known; inputTensor and inputShape must agree', async () => {
    expect(await argumentError(mobilenetV3Small({ inputShape: [31, 64, 3], weights: null }))).toMatch(/at least 32x32.*\[31,64,3\]/);
    const inputTensor = tfl.input({ shape: [64, 64, 3] });
    expect(await argumentError(mobilenetV3Small({ inputTensor, inputShape: [64, 96, 3], weights: null }))).toMatch(
      /inputShape\[1\] must equal inputTensor.shape\[2\]/,
    );
    expect(await argumentError(mobilenetV3Small({ inputTensor: [1, 2] as never, weights: null }))).toMatch(/`inputTensor` must be a symbolic tensor/);
  });

  it('keeps the input size free with the top, and imagenet warns off 224', async () => {
    const model = await mobilenetV3Small({ weights: null, minimalistic: true });
    expect(model.inputs[0]!.shape).toEqual([null, null, null, 3]);
    expect(model.outputs[0]!.shape).toEqual([null, 1000]);
    model.dispose();
    const warned = warnings();
    expect(await officialFileWanted(mobilenetV3Small({ inputShape: [160, 160, 3] }))).toBe('weights_mobilenet_v3_small_224_1.0_float.h5');
    expect(warned()).toEqual([expect.stringMatching(/`rows` is not 224/)]);
    expect(await officialFileWanted(mobilenetV3Large({ minimalistic: true, includeTop: false, inputShape: [224, 224, 3] }))).toBe(
      'weights_mobilenet_v3_large_minimalistic_224_1.0_float_no_top_v2.h5',
    );
  });
});
