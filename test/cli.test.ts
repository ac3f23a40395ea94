import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { ensureBackend } from '../src/backend';
import { EXIT } from '../src/cli';
import { runCli } from './helpers/cli';
import { applications } from '../src/applications/registry';
import { fixtureConfig, loadFixture, relativeError } from './helpers/keras-ref';

const ELEPHANT = 'test/data/images/elephant.jpg';
/** Keras's official MobileNet α=0.25 file without the top, under its official name. */
const MOBILENET_025_NO_TOP = 'mobilenet_2_5_224_tf_no_top.h5';
const MOBILENET_025_NO_TOP_PATH = `test/data/weights/${MOBILENET_025_NO_TOP}`;
// The CLI lists the registry, in its order.
const MODELS = Object.keys(applications);


let kerasHome: string;

beforeEach(async () => {
  // Never download, never read a real cache.
  kerasHome = await mkdtemp(path.join(os.tmpdir(), 'keras-cli-'));
  vi.stubEnv('KERAS_HOME', kerasHome);
  vi.stubEnv('KERAS_APPLICATIONS_OFFLINE', '1');
});

afterEach(async () => {
  vi.unstubAllEnvs();
  await rm(kerasHome, { recursive: true, force: true });
});

describe('keras-applications', () => {
  it('--device gpu names what this machine lacks (exit code 4); an unknown device is a usage error', async () => {
    const gpu = await runCli('classify', ELEPHANT, '--model', 'MobileNet', '--alpha', '0.25', '--input-size', '128', '--device', 'gpu');
    expect(gpu.code).toBe(EXIT.input);
    expect(gpu.stderr).toMatch(/^error: device 'gpu' cannot run here: onnxruntime on the gpu: onnxruntime-node's CUDA provider is not installed/);
    const cpu = await runCli('classify', ELEPHANT, '--model', 'MobileNet', '--alpha', '0.25', '--input-size', '128', '--device', 'cpu');
    expect(cpu.code).toBe(EXIT.ok);
    expect(cpu.stdout).toMatch(/1 +African_elephant/);
    const unknown = await runCli('classify', ELEPHANT, '--device', 'tpu');
    expect(unknown).toMatchObject({ code: EXIT.usage, stderr: "error: --device must be one of auto, cpu, gpu. Received: tpu\nSee 'keras-applications --help'.\n" });
  });

  it("passes a builder's other options with --option name=value (MobileNetV3's minimalistic, as Keras counts it)", async () => {
    const keras = fixtureConfig('MobileNetV3Small', 'minimalistic_top_default').structure.total_params;
    const { code, stdout } = await runCli('summary', 'MobileNetV3Small', '--option', 'minimalistic=true');
    expect(code).toBe(EXIT.ok);
    expect(stdout).toContain(`Total params: ${keras.toLocaleString('en-US')} `);
    const unknown = await runCli('summary', 'MobileNetV3Small', '--option', 'bogus=1');
    expect(unknown.code).toBe(EXIT.input);
    expect(unknown.stderr).toMatch(/^error: Unknown option `bogus` for MobileNetV3Small\. Allowed: .*minimalistic/);
    for (const [option, message] of [
      ['weights=x.h5', '--option weights=…: the command line sets weights itself (use --weights)'],
      ['no-equals-sign', '--option must be <name>=<value>, e.g. minimalistic=true. Received: no-equals-sign'],
    ]) {
      const refused = await runCli('summary', 'MobileNet', '--option', option!);
      expect(refused.code).toBe(EXIT.usage);
      expect(refused.stderr).toBe(`error: ${message}\nSee 'keras-applications --help'.\n`);
    }
  });

  it("lists every model as the Keras documentation's table", async () => {
    const { code, stdout, stderr } = await runCli('list');
    expect(code).toBe(EXIT.ok);
    expect(stderr).toBe('');
    const lines = stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^Model +Size \(MB\) +Top-1 Accuracy +Top-5 Accuracy +Parameters +Depth +Input$/);
    expect(lines.slice(1).map((line) => line.split(/ +/)[0])).toEqual(MODELS);
    // keras.io/api/applications: VGG16 528 MB, 71.3%, 90.1%, 138.4M parameters, depth 16.
    expect(lines[1]).toMatch(/^VGG16 +528 +71\.3% +90\.1% +138\.4M +16 +224×224$/);
    expect(lines.find((line) => line.startsWith('ConvNeXtTiny '))).toMatch(/^ConvNeXtTiny +109\.42 +81\.3% +— +28\.6M +— +224×224$/);
    expect(lines.at(-1)).toMatch(/^MusicTaggerCRNN +— +— +— +0\.4M +— +96×1366×1 mel$/);
    const json = JSON.parse((await runCli('list', '--json')).stdout);
    expect(json.map((m: { model: string }) => m.model)).toEqual(MODELS);
    expect(json[2]).toEqual({
      model: 'ResNet50', sizeMB: 98, top1: 0.749, top5: 0.921, parameters: 25_636_712, depth: 107, input: '224×224', preprocessing: 'caffe',
    });
  });

  it("lists the models a wildcard pattern matches, in any letter case, as timm's list_models", async () => {
    const models = async (...argv: string[]) => {
      const { code, stdout } = await runCli('list', ...argv);
      expect(code).toBe(EXIT.ok);
      return stdout.trimEnd().split('\n').slice(1).map((line) => line.split(/ +/)[0]);
    };
    expect(await models('*RESNET5*')).toEqual(['ResNet50', 'ResNet50V2']);
    expect(await models('mobilenet')).toEqual(['MobileNet']);
    expect(await models('mobilenetv?small')).toEqual(['MobileNetV3Small']);
    expect(await models('vgg1[!6]')).toEqual(['VGG19']);
    expect(await models('nothing*')).toEqual([]);
    const json = JSON.parse((await runCli('list', 'resnet50', '--json')).stdout);
    expect(json.map((m: { model: string }) => m.model)).toEqual(['ResNet50']);
  });

  it('lists the models with cached weights, and which files', async () => {
    const folder = path.join(kerasHome, 'models');
    await mkdir(folder);
    await copyFile(MOBILENET_025_NO_TOP_PATH, path.join(folder, MOBILENET_025_NO_TOP));
    await writeFile(path.join(folder, 'notes.txt'), 'not a weights file');
    const { code, stdout } = await runCli('list', '--cached');
    expect(code).toBe(EXIT.ok);
    const lines = stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/ +Input +Cached$/);
    expect(lines.slice(1)).toHaveLength(1);
    expect(lines[1]).toMatch(new RegExp(`^MobileNet .* 224×224  ${MOBILENET_025_NO_TOP}$`));
    expect(JSON.parse((await runCli('list', '--cached', '--json')).stdout).map((m: { model: string; cached: string[] }) => [m.model, m.cached])).toEqual([
      ['MobileNet', [MOBILENET_025_NO_TOP]],
    ]);
    expect((await runCli('list', '*resnet*', '--cached')).stdout.trimEnd().split('\n')).toHaveLength(1);
  });

  it('prints help and the package version', async () => {
    const help = await runCli('--help');
    expect(help.code).toBe(0);
    for (const command of ['classify <image...>', 'features <image...>', 'list [<pattern>] [--cached] [--json]', 'summary <model>', 'download <model...>', 'cache list|verify', 'cache remove <model|file...>']) {
      expect(help.stdout).toContain(`keras-applications ${command}`);
    }
    expect(help.stdout).toMatch(/Exit codes:\n  0  success\n  1  unexpected error/);
    const version = await runCli('--version');
    const pkg = JSON.parse(await readFile('package.json', 'utf8'));
    expect(version).toEqual({ code: 0, stdout: `${pkg.version}\n`, stderr: '' });
  });

  it.each([
    [['classify', ELEPHANT, '--model', 'ResNet42'], "error: unknown model 'ResNet42'. Did you mean ResNet50, ResNet152? ('keras-applications list' shows them all)"],
    [['summary', 'mobilnetv2'], "error: unknown model 'mobilnetv2'. Did you mean MobileNetV2, MobileNet?"],
    [['download', 'EfficientNetB9'], "error: unknown model 'EfficientNetB9'. Did you mean EfficientNetB0, EfficientNetB1, EfficientNetB2?"],
    [['summary', 'frobnicator'], "error: unknown model 'frobnicator'. ('keras-applications list' shows them all)"],
    [['list', '*a*', '*b*'], "error: 'list' takes at most one pattern. Received: *a* *b*"],
    [['cache'], "error: 'cache' takes list, verify or remove. Received: nothing"],
    [['cache', 'list', 'extra'], "error: 'cache list' takes no arguments. Received: extra"],
    [['cache', 'remove'], "error: 'cache remove' needs a model name or a cached file's name"],
    [['download', 'MobileNet', '--input-size', '128x160'], 'error: download: --input-size must be one square size, e.g. 128. Received: 128x160'],
    [['classify', ELEPHANT, '--frobnicate'], "error: Unknown option '--frobnicate'"],
    [['classify', ELEPHANT, '--top', '0'], 'error: --top must be a positive integer. Received: 0'],
    [['classify', ELEPHANT, '--backend', 'gpu'], 'error: --backend must be one of wasm, cpu, tensorflow, tensorflow-gpu'],
    [['classify'], "error: 'classify' needs at least one image"],
    [['frobnicate'], "error: unknown command 'frobnicate'"],
    [[], 'error: no command given'],
    [['summary'], "error: 'summary' takes one model name. Received: none"],
    [['summary', 'ResNet50', '--pooling', 'avg'], 'error: --pooling and --input-size need --no-top'],
    [['summary', 'ResNet50', '--no-top', '--input-size', '128x'], 'error: --input-size must be <size> or <height>x<width>, e.g. 128 or 128x160. Received: 128x'],
    [['summary', 'InceptionV3', '--no-top', '--input-size', '74x80'], 'error: --input-size must be at least 75x75 for InceptionV3. Received: 74x80'],
    [['classify', ELEPHANT, '--model', 'MobileNet', '--input-size', '10x10'], 'error: --input-size must be at least 32x32 for MobileNet. Received: 10x10'],
    [['classify', ELEPHANT, '--model', 'MobileNet', '--input-size', '128x160x3'], 'error: --input-size must be <size> or <height>x<width>'],
    [['features', ELEPHANT, '--model', 'MobileNet', '--input-size', '16'], 'error: --input-size must be at least 32x32 for MobileNet. Received: 16'],
    [['classify', ELEPHANT, '--model', 'MobileNet', '--alpha', 'wide'], 'error: --alpha must be a positive number, e.g. 0.25. Received: wide'],
    [['features', ELEPHANT, '--model', 'MobileNet', '--alpha=0'], 'error: --alpha must be a positive number, e.g. 0.25. Received: 0'],
    [['classify', 'test/data/audio/bensound-cute.mp3', '--model', 'MusicTaggerCRNN', '--alpha', '0.5'], 'error: --alpha and --input-size are for image models. Received: --model MusicTaggerCRNN'],
    [['summary', 'ResNet50', '--no-top', '--pooling', 'mean'], 'error: --pooling must be avg or max. Received: mean'],
    [['download'], "error: 'download' needs at least one model name"],
    [['download', 'VGG16', '--variant', 'both'], 'error: --variant must be one of top, notop, all. Received: both'],
    [['features'], "error: 'features' needs at least one image"],
    [['features', ELEPHANT, '--model', 'MusicTaggerCRNN'], "error: 'features' needs an image model. Received: --model MusicTaggerCRNN"],
  ])('answers %j with one line, a pointer to --help and exit code 2', async (argv, message) => {
    const { code, stdout, stderr } = await runCli(...argv);
    expect(code).toBe(EXIT.usage);
    expect(stdout).toBe('');
    const [line, pointer, ...rest] = stderr.split('\n');
    expect(line).toContain(message);
    expect(pointer).toBe("See 'keras-applications --help'.");
    expect(rest).toEqual(['']);
  });

  it('reports a missing image without a stack trace, before any download (exit code 4)', async () => {
    for (const command of ['classify', 'features']) {
      const { code, stderr } = await runCli(command, 'no/such/image.jpg');
      expect(code).toBe(EXIT.input);
      expect(stderr).toMatch(/^error: Cannot read image 'no\/such\/image\.jpg': no such file/);
      expect(stderr).not.toMatch(/\n\s+at /);
    }
  });

  it.each([
    // Keras publishes MobileNet weights for four widths only.
    [['--model', 'MobileNet', '--alpha', '0.3'], 'error: If imagenet weights are being loaded, `alpha` must be one of 0.25, 0.5, 0.75, 1.0. Received: alpha=0.3'],
    [['--model', 'ResNet50', '--alpha', '0.5'], 'error: Unknown option `alpha` for ResNet50.'],
  ])('reports builder options the model does not take, %j, before any download (exit code 4)', async (options, message) => {
    const { code, stderr } = await runCli('classify', ELEPHANT, ...options);
    expect(code).toBe(EXIT.input);
    expect(stderr).toContain(message);
    expect(stderr).not.toContain('Usage:');
  });

  it('reports a weights file that does not fit the model (exit code 5)', async () => {
    // MobileNet alpha 0.25 without its top, given to the default MobileNet (alpha 1.0, with the top).
    const { code, stderr } = await runCli('classify', ELEPHANT, '--model', 'MobileNet', '--weights', 'test/data/weights/mobilenet_2_5_224_tf_no_top.h5');
    expect(code).toBe(EXIT.weightsFile);
    expect(stderr).toMatch(/^error: /);
    expect(stderr).not.toMatch(/\n\s+at /);
  });

  it('refuses a --weights URL whose file name would leave the cache (exit code 4), writing nothing', async () => {
    vi.stubEnv('KERAS_APPLICATIONS_OFFLINE', undefined);
    const url = 'http://127.0.0.1:9/w/..%2F..%2Fescaped.h5';
    const { code, stderr } = await runCli('classify', ELEPHANT, '--model', 'MobileNet', '--weights', url);
    expect(code).toBe(EXIT.input);
    expect(stderr).toContain(`The file name in the weights URL ${url} is "../../escaped.h5", which is not a plain file name`);
    expect(readdirSync(kerasHome)).toEqual([]);
  });

  it('ends with the download error, naming the URL and where to put the file, when offline (exit code 3)', async () => {
    const { code, stdout, stderr } = await runCli('classify', ELEPHANT, '--model', 'VGG16');
    expect(code).toBe(EXIT.download);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/^error: /);
    expect(stderr).not.toMatch(/\n\s+at /);
    expect(stderr).toContain(
      'https://storage.googleapis.com/tensorflow/keras-applications/vgg16/vgg16_weights_tf_dim_ordering_tf_kernels.h5',
    );
    expect(stderr).toContain(path.join(kerasHome, 'models', 'vgg16_weights_tf_dim_ordering_tf_kernels.h5'));
    // The file's size (Keras's table: 528 MB) and the other ways to get it.
    expect(stderr).toContain('vgg16_weights_tf_dim_ordering_tf_kernels.h5 (528 MB). Other ways to get it: set KERAS_APPLICATIONS_MIRROR');
    expect(stderr).toContain('`keras-applications download <model>` on a machine with network access');
  });

  it('classifies images end to end (random weights), as a table and as JSON', async () => {
    const table = await runCli('classify', ELEPHANT, 'test/data/images/cat.jpg', '--model', 'resnet50', '--weights', 'none', '--top', '3');
    expect(table.stderr).toBe('');
    expect(table.code).toBe(0);
    const blocks = table.stdout.trimEnd().split('\n\n');
    expect(blocks).toHaveLength(2);
    expect(blocks[0].split('\n')[0]).toBe(`${ELEPHANT} (ResNet50)`);
    expect(blocks[0].split('\n')[1]).toMatch(/^# +Class +Probability$/);
    expect(blocks[0].split('\n').slice(2).map((line) => line.trim().split(/ +/)[0])).toEqual(['1', '2', '3']);
    expect(blocks[0]).toMatch(/ \d+\.\d\d%$/m);

    const json = await runCli('classify', ELEPHANT, '--model', 'ResNet50', '--weights', 'none', '--top', '2', '--json');
    expect(json.code).toBe(0);
    const parsed = JSON.parse(json.stdout);
    expect(parsed.model).toBe('ResNet50');
    expect(parsed.results).toHaveLength(1);
    expect(parsed.results[0].image).toBe(ELEPHANT);
    const [first, second] = parsed.results[0].predictions;
    expect(Object.keys(first).sort()).toEqual(['classId', 'className', 'probability']);
    expect(first.probability).toBeGreaterThanOrEqual(second.probability);
  });

  it("runs the README's first command offline with the bundled MobileNet, with Keras's classes and probabilities", async () => {
    const readme = await readFile('README.md', 'utf8');
    const firstBlock = /```sh\n([\s\S]*?)```/.exec(readme)![1]!;
    const command = /^# 1\..*\n(.*)$/m.exec(firstBlock)![1]!;
    expect(command).toMatch(/^ONNXRUNTIME_NODE_INSTALL=skip npm install && npm run build && node dist\/cli\.js classify /);
    const argv = command.split('node dist/cli.js ')[1]!.split(' ');
    expect(argv.join(' ')).toContain('--model MobileNet --alpha 0.25 --input-size 128');

    // Keras 3 with the same file on the same photo (beforeEach: offline, an empty cache).
    const keras = JSON.parse(await readFile('test/fixtures/keras-ref/real/mobilenet_025_128_predictions.json', 'utf8'));
    const expected = keras.images['elephant.jpg'] as [string, string, number][];
    expect(expected[0]![1]).toBe('African_elephant');
    const table = await runCli(...argv);
    expect(table.stderr).toBe('');
    expect(table.code).toBe(EXIT.ok);
    const [title, , ...rows] = table.stdout.trimEnd().split('\n');
    expect(title).toBe(`${ELEPHANT} (MobileNet)`);
    expect(rows.map((row) => row.trim().split(/ +/)[1])).toEqual(expected.map(([, className]) => className));
    expect(rows[0]).toMatch(new RegExp(` ${(expected[0]![2] * 100).toFixed(2)}%$`));

    const json = await runCli(...argv, '--json');
    const [predictions] = JSON.parse(json.stdout).results.map((r: { predictions: unknown }) => r.predictions);
    expect(predictions.map((p: { classId: string }) => p.classId)).toEqual(expected.map(([classId]) => classId));
    predictions.forEach((p: { probability: number }, i: number) => expect(Math.abs(p.probability - expected[i]![2])).toBeLessThan(1e-4));
    expect(predictions[0].probability).toBeGreaterThan(0.5);
  });

  it("tags a music clip with MusicTaggerCRNN and the author's weights, as the author published", async () => {
    const published = JSON.parse(await readFile('test/data/audio/published_tags.json', 'utf8'));
    const clip = 'test/data/audio/bensound-cute.mp3';
    const weights = 'test/data/audio/music_tagger_crnn_weights_tensorflow.h5';
    const { code, stdout } = await runCli('classify', clip, '--model', 'MusicTaggerCRNN', '--weights', weights, '--top', '3', '--json');
    expect(code).toBe(0);
    const { results } = JSON.parse(stdout);
    const expected = published.results['bensound-cute.mp3'].slice(0, 3) as [string, number][];
    expect(results[0].clip).toBe(clip);
    expect(results[0].tags.map((t: { tag: string }) => t.tag)).toEqual(expected.map(([tag]) => tag));
    results[0].tags.forEach((t: { score: number }, i: number) => expect(Math.abs(t.score - expected[i]![1])).toBeLessThan(0.02));
  });
});

/** The rows of a summary table: [name (class), output shape, params] per layer, and the totals. */
function parseSummary(text: string) {
  const lines = text.trimEnd().split('\n');
  const rules = lines.flatMap((line, i) => (/^=+$/.test(line) ? [i] : []));
  const rows = lines.slice(rules[0]! + 1, rules[1]).map((line) => line.split(/ {2,}/).slice(0, 3));
  const totals = Object.fromEntries(lines.slice(rules[1]! + 1, -1).map((line) => line.split(': ') as [string, string]));
  return { title: lines[0], header: lines[2], rows, totals };
}

describe('keras-applications summary', () => {
  it("prints Keras's layer table and parameter totals", async () => {
    const config = fixtureConfig('ResNet50', 'notop_avg_128x160');
    const { code, stdout, stderr } = await runCli('summary', 'resnet50', '--no-top', '--pooling', 'avg', '--input-size', '128x160');
    expect(stderr).toBe('');
    expect(code).toBe(EXIT.ok);
    const { title, header, rows, totals } = parseSummary(stdout);
    expect(title).toBe('Model: "resnet50"');
    expect(header).toMatch(/^Layer \(type\) +Output Shape +Param # +Connected to$/);
    expect(rows).toEqual(
      config.structure.layers.map(([name, className, shape, params]) => [
        `${name} (${className})`,
        `(None, ${(shape as number[]).join(', ')})`,
        params.toLocaleString('en-US'),
      ]),
    );
    // Keras: "Total params: 23,587,712 (89.98 MB)", float32 sizes in 1024-based units.
    const { total_params: total, trainable_params: trainable, non_trainable_params: frozen } = config.structure;
    expect(totals).toEqual({
      'Total params': `${total.toLocaleString('en-US')} (89.98 MB)`,
      'Trainable params': `${trainable.toLocaleString('en-US')} (89.78 MB)`,
      'Non-trainable params': `${frozen.toLocaleString('en-US')} (207.50 KB)`,
    });
    expect(stdout).toContain('conv2_block1_add (Add)');
    expect(stdout).toMatch(/conv2_block1_add \(Add\) .* conv2_block1_0_bn\[0\]\[0\], conv2_block1_3_bn\[0\]\[0\]\n/);
  });
});

describe('keras-applications features', () => {
  it("prints the named layers' outputs per image, with Keras's shapes", async () => {
    const keras = new Map(loadFixture('MobileNetV2').configs[0]!.structure.layers.map(([name, , shape]) => [name, shape]));
    const images = [ELEPHANT, 'test/data/images/cat.jpg'];
    const argv = ['features', ...images, '--model', 'MobileNetV2', '--weights', 'none', '--layer', 'block_2_add', '--layer', 'out_relu'];
    const json = await runCli(...argv, '--json');
    expect(json.stderr).toBe('');
    expect(json.code).toBe(EXIT.ok);
    const parsed = JSON.parse(json.stdout);
    expect(parsed.model).toBe('MobileNetV2');
    expect(parsed.results.map((r: { image: string }) => r.image)).toEqual(images);
    for (const result of parsed.results) {
      expect(Object.keys(result.features)).toEqual(['block_2_add', 'out_relu']);
      for (const [layer, { shape, values }] of Object.entries(result.features as Record<string, { shape: number[]; values: number[] }>)) {
        expect(shape).toEqual(keras.get(layer));
        expect(values).toHaveLength(shape.reduce((a, b) => a * b, 1));
      }
    }
    expect(parsed.results[0].features.out_relu.values).not.toEqual(parsed.results[1].features.out_relu.values);

    const text = await runCli(...argv);
    expect(text.code).toBe(EXIT.ok);
    const [first] = text.stdout.trimEnd().split('\n\n');
    expect(first!.split('\n')[0]).toBe(`${ELEPHANT} (MobileNetV2)`);
    expect(first!.split('\n')[2]).toMatch(/^ {2}out_relu {2}\[7, 7, 1280\] {2}mean \S+ {2}std \S+ {2}min \S+ {2}max \S+ {2}\[(\S+, ){5}…\]$/);
  });

  it('without --layer, gives the pooled vector of the model without its top', async () => {
    const { code, stdout } = await runCli('features', ELEPHANT, '--model', 'MobileNetV2', '--weights', 'none', '--json');
    expect(code).toBe(EXIT.ok);
    const { results } = JSON.parse(stdout);
    const [[layer, { shape }]] = Object.entries(results[0].features) as [string, { shape: number[] }][];
    // Keras's MobileNetV2(include_top=False, pooling='avg'): [1280].
    expect(shape).toEqual(loadFixture('MobileNetV2').configs.find((c) => c.id.startsWith('notop'))!.structure.output_shape.slice(1));
    expect(layer).toBe('global_average_pooling2d');
  });

  it('builds the variant --alpha and --input-size ask for, with Keras\'s shapes', async () => {
    const configs = loadFixture('MobileNet').configs;
    // Keras's MobileNet(alpha=0.5, input_shape=(160, 160, 3)) with its top, read at a layer.
    const layerShape = new Map(configs.find((c) => c.id === 'alpha0.5_top_160x160')!.structure.layers.map(([name, , shape]) => [name, shape]));
    const atLayer = await runCli('features', ELEPHANT, '--model', 'MobileNet', '--alpha', '0.5', '--input-size', '160', '--weights', 'none', '--layer', 'conv_pw_13_relu', '--json');
    expect(atLayer.code).toBe(EXIT.ok);
    expect(JSON.parse(atLayer.stdout).results[0].features.conv_pw_13_relu.shape).toEqual(layerShape.get('conv_pw_13_relu'));
    // MobileNet(alpha=0.75, include_top=False, pooling='avg', input_shape=(192, 192, 3)): [768].
    const pooled = await runCli('features', ELEPHANT, '--model', 'MobileNet', '--alpha', '0.75', '--input-size', '192x192', '--weights', 'none', '--json');
    expect(pooled.code).toBe(EXIT.ok);
    const [{ shape }] = Object.values(JSON.parse(pooled.stdout).results[0].features) as { shape: number[] }[];
    expect(shape).toEqual(configs.find((c) => c.id === 'alpha0.75_notop_avg_192x192')!.structure.output_shape.slice(1));
  });

  describe('with the official file without the top in the cache (offline)', () => {
    const keras = JSON.parse(readFileSync('test/fixtures/keras-ref/real/mobilenet_025_features.json', 'utf8'));
    const kerasPooled = keras.images['elephant.jpg'].features.values as number[];
    beforeEach(async () => {
      await mkdir(path.join(kerasHome, 'models'));
      await copyFile(MOBILENET_025_NO_TOP_PATH, path.join(kerasHome, 'models', MOBILENET_025_NO_TOP));
    });

    it('reads backbone layers from the model without its top, so the file with the top is never needed', async () => {
      const { code, stdout, stderr } = await runCli('features', ELEPHANT, '--model', 'MobileNet', '--alpha', '0.25', '--layer', 'conv_pw_13_relu', '--json');
      expect(stderr).toBe('');
      expect(code).toBe(EXIT.ok);
      const { shape, values } = JSON.parse(stdout).results[0].features.conv_pw_13_relu as { shape: number[]; values: number[] };
      expect(shape).toEqual([7, 7, 256]);
      // Keras's pooled features (MobileNet(alpha=0.25, include_top=False, pooling='avg')) are this layer's spatial means.
      const means = Array.from({ length: 256 }, (_, c) => values.filter((_, i) => i % 256 === c).reduce((a, b) => a + b, 0) / 49);
      expect(relativeError(means, kerasPooled)).toBeLessThanOrEqual(1e-4);
    });

    it('asks for the file with the top for a layer of the top only', async () => {
      const { code, stderr } = await runCli('features', ELEPHANT, '--model', 'MobileNet', '--alpha', '0.25', '--layer', 'conv_preds');
      expect(code).toBe(EXIT.download);
      expect(stderr).toContain(path.join(kerasHome, 'models', 'mobilenet_2_5_224_tf.h5'));
    });

    it("prints Keras's inputShape warning only for a size Keras publishes no file for", async () => {
      const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
      try {
        const pooled = await runCli('features', ELEPHANT, '--model', 'MobileNet', '--alpha', '0.25', '--json');
        expect(pooled.code).toBe(EXIT.ok);
        expect(relativeError(JSON.parse(pooled.stdout).results[0].features.global_average_pooling2d.values, kerasPooled)).toBeLessThanOrEqual(1e-4);
        expect(warn).not.toHaveBeenCalled();
        const small = await runCli('features', ELEPHANT, '--model', 'MobileNet', '--alpha', '0.25', '--input-size', '100');
        expect(small.code).toBe(EXIT.ok);
        expect(warn).toHaveBeenCalledTimes(1);
        expect(warn.mock.calls[0]![0]).toContain('Weights for input shape (224, 224) will be loaded as the default.');
      } finally {
        warn.mockRestore();
      }
    });
  });

  it('names the layers a model has when one is not there', async () => {
    const { code, stderr } = await runCli('features', ELEPHANT, '--model', 'MobileNetV2', '--weights', 'none', '--layer', 'block_3_add');
    expect(code).toBe(EXIT.input);
    expect(stderr).toMatch(/^error: Model 'mobilenetv2_1\.00_224' has no layer 'block_3_add'\. .*its layers: input_layer, Conv1, /);
  });

  it('frees the model and the images when a layer is not there', async () => {
    await ensureBackend();
    const before = tf.memory().numTensors;
    const { code } = await runCli('features', ELEPHANT, '--model', 'MobileNetV2', '--weights', 'none', '--layer', 'block_3_add');
    expect(code).toBe(EXIT.input);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('keras-applications download', () => {
  // Serves one real HDF5 file (MobileNet α 0.25, no top) for every path. Keras publishes MobileNetV2's files
  // without a hash, so any sound HDF5 file is accepted for them; ResNet50's has an md5 it cannot match.
  const served = readFileSync('test/data/weights/mobilenet_2_5_224_tf_no_top.h5');
  const requested: string[] = [];
  let server: Server;
  beforeAll(async () => {
    server = createServer((req, res) => {
      requested.push(req.url!);
      res.setHeader('content-length', served.byteLength);
      res.end(served);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
  beforeEach(() => {
    vi.stubEnv('KERAS_APPLICATIONS_OFFLINE', '');
    vi.stubEnv('KERAS_APPLICATIONS_MIRROR', `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    requested.length = 0;
  });

  it('fills the cache from the official path, with progress on stderr, and then works offline', async () => {
    const file = MOBILENET_025_NO_TOP;
    const target = path.join(kerasHome, 'models', file);
    const { code, stdout, stderr } = await runCli('download', 'mobilenet', '--alpha', '0.25', '--input-size', '224', '--variant', 'notop');
    expect(code).toBe(EXIT.ok);
    expect(requested).toEqual([`/tensorflow/keras-applications/mobilenet/${file}`]);
    expect(stdout).toBe(`MobileNet\tnotop\t${target}\n`);
    // A line per quarter reached (getFile reports at most every 100 ms, and always the end).
    const size = (served.byteLength / 1e6).toFixed(1);
    expect(stderr).toMatch(new RegExp(`^${file.replaceAll('.', '\\.')}: 0% \\(\\d+\\.\\d/${size} MB\\)\n`));
    expect(stderr).toMatch(new RegExp(`\n${file.replaceAll('.', '\\.')}: 100% \\(${size}/${size} MB\\)\n$`));
    expect(readFileSync(target).equals(served)).toBe(true);

    vi.stubEnv('KERAS_APPLICATIONS_OFFLINE', '1');
    const again = await runCli('download', 'MobileNet', '--alpha', '0.25', '--variant', 'notop');
    expect(again).toEqual({ code: EXIT.ok, stdout, stderr: '' });
    expect(requested).toHaveLength(1);
  });

  it('goes on after a file that fails its hash check, and ends with exit code 3', async () => {
    const { code, stdout, stderr } = await runCli('download', 'ResNet50', 'MobileNetV2', '--variant', 'notop');
    expect(code).toBe(EXIT.download);
    expect(stdout).toBe('');
    expect(requested).toEqual([
      '/tensorflow/keras-applications/resnet/resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5',
      '/tensorflow/keras-applications/mobilenet_v2/mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224_no_top.h5',
    ]);
    expect(stderr).toMatch(/^error: ResNet50 \(notop\): Could not download resnet50_weights_tf_dim_ordering_tf_kernels_notop\.h5 .*its md5 is [0-9a-f]{32}, but 4d473c1dd8becc155b73f8504c6f6626 was expected/m);
    // A MobileNet file is no MobileNetV2 file, of any width.
    expect(stderr).toMatch(/^error: MobileNetV2 \(notop\): The file .* it fits no file Keras publishes for MobileNetV2\./m);
  });

  it('checks that Keras publishes the --alpha asked for before downloading anything (exit code 4)', async () => {
    const { code, stdout, stderr } = await runCli('download', 'MobileNet', 'ResNet50', '--alpha', '0.25');
    expect({ code, stdout, stderr }).toEqual({ code: EXIT.input, stdout: '', stderr: "error: Keras publishes no 'top' file for ResNet50 with --alpha 0.25\n" });
    expect(requested).toEqual([]);
  });

  it('refuses a file whose weight shapes are not those of the model it is named for, naming it (exit code 5)', async () => {
    // Keras publishes no hash for MobileNet: the α=0.25 file served under the α=1.0 name passes every other check.
    const file = 'mobilenet_1_0_224_tf_no_top.h5';
    const target = path.join(kerasHome, 'models', file);
    const expected =
      `error: MobileNet (notop): The file ${target} is not ${file}: it does not fit MobileNet(alpha=1.0) without its top ` +
      '(weighted layer 0 has shapes [3, 3, 3, 8], the model\'s [3, 3, 3, 32]); it seems to be MobileNet(alpha=0.25) without its top. ' +
      `Remove it ('keras-applications cache remove ${file}') and download it again\n`;
    const { code, stdout, stderr } = await runCli('download', 'MobileNet', '--variant', 'notop');
    expect(requested).toEqual([`/tensorflow/keras-applications/mobilenet/${file}`]);
    expect({ code, stdout }).toEqual({ code: EXIT.weightsFile, stdout: '' });
    expect(stderr.split('\n').filter((line) => line.startsWith('error: '))).toEqual([expected.trimEnd()]);

    // The bad copy stays named: by download, offline, and by cache verify; cache remove clears it.
    vi.stubEnv('KERAS_APPLICATIONS_OFFLINE', '1');
    expect(await runCli('download', 'MobileNet', '--variant', 'notop')).toEqual({ code: EXIT.weightsFile, stdout: '', stderr: expected });
    const verify = await runCli('cache', 'verify');
    expect(verify.code).toBe(EXIT.weightsFile);
    expect(verify.stderr).toMatch(new RegExp(`^error: ${target.replaceAll('.', '\\.')}: it does not fit MobileNet\\(alpha=1\\.0\\) without its top`));
    expect(await runCli('cache', 'remove', file)).toEqual({ code: EXIT.ok, stdout: `removed ${target}\n`, stderr: '' });
    expect(existsSync(target)).toBe(false);
  });

  it('offline without the file, names the URL and the path to put it at', async () => {
    vi.stubEnv('KERAS_APPLICATIONS_OFFLINE', '1');
    const { code, stdout, stderr } = await runCli('download', 'VGG16');
    expect(code).toBe(EXIT.download);
    expect(stdout).toBe('');
    expect(stderr).toContain(`http://127.0.0.1:${(server.address() as AddressInfo).port}/tensorflow/keras-applications/vgg16/vgg16_weights_tf_dim_ordering_tf_kernels.h5`);
    expect(stderr).toContain(path.join(kerasHome, 'models', 'vgg16_weights_tf_dim_ordering_tf_kernels.h5'));
    expect(requested).toEqual([]);
  });
});

describe('keras-applications cache', () => {
  let folder: string;
  const truncated = 'mobilenet_5_0_224_tf_no_top.h5';
  beforeEach(async () => {
    folder = path.join(kerasHome, 'models');
    await mkdir(folder);
    await copyFile(MOBILENET_025_NO_TOP_PATH, path.join(folder, MOBILENET_025_NO_TOP));
    await writeFile(path.join(folder, truncated), readFileSync(MOBILENET_025_NO_TOP_PATH).subarray(0, 1000));
    await writeFile(path.join(folder, 'notes.txt'), 'not a weights file');
    await writeFile(path.join(kerasHome, 'outside.h5'), 'not in the cache folder');
  });

  it('lists the cached files with their sizes and whether each verifies', async () => {
    const { code, stdout, stderr } = await runCli('cache', 'list');
    expect({ code, stderr }).toEqual({ code: EXIT.ok, stderr: '' });
    const [title, header, ...rows] = stdout.trimEnd().split('\n');
    expect(title).toBe(folder);
    expect(header).toMatch(/^File +Size \(MB\) +For +Check +Verifies$/);
    const size = (readFileSync(MOBILENET_025_NO_TOP_PATH).byteLength / 1e6).toFixed(1);
    expect(rows).toHaveLength(3);
    expect(rows[0]).toMatch(new RegExp(`^${MOBILENET_025_NO_TOP.replaceAll('.', '\\.')} +${size} +MobileNet\\(alpha=0\\.25\\) without its top +HDF5 length and shapes +ok$`));
    expect(rows[1]).toMatch(/^mobilenet_5_0_224_tf_no_top\.h5 +0\.0 +MobileNet\(alpha=0\.5\) without its top +HDF5 length and shapes +BAD: it is truncated: 1000 bytes, but its HDF5 superblock records \d+$/);
    expect(rows[2]).toMatch(/^notes\.txt +0\.0 +— +none +not checked$/);
    const json = JSON.parse((await runCli('cache', 'list', '--json')).stdout);
    expect(json.folder).toBe(folder);
    expect(json.files.map((f: { name: string; bytes: number }) => [f.name, f.bytes])).toEqual([
      [MOBILENET_025_NO_TOP, readFileSync(MOBILENET_025_NO_TOP_PATH).byteLength],
      [truncated, 1000],
      ['notes.txt', 18],
    ]);
  });

  it('verify names the bad files and ends with exit code 5', async () => {
    const { code, stdout, stderr } = await runCli('cache', 'verify');
    expect(code).toBe(EXIT.weightsFile);
    expect(stderr).toMatch(new RegExp(`^error: ${path.join(folder, truncated).replaceAll('.', '\\.')}: it is truncated: 1000 bytes, but its HDF5 superblock records \\d+\n$`));
    expect(stdout).toBe(`${folder}: 1 verified, 1 bad, 1 not checked\n`);
    await rm(path.join(folder, truncated));
    expect(await runCli('cache', 'verify')).toEqual({ code: EXIT.ok, stdout: `${folder}: 1 verified, 0 bad, 1 not checked\n`, stderr: '' });
  });

  it("removes a model's files or a file by name, and nothing outside the cache folder", async () => {
    for (const outside of ['../outside.h5', path.join(kerasHome, 'outside.h5'), '..']) {
      const { code, stderr } = await runCli('cache', 'remove', outside);
      expect(code).toBe(EXIT.input);
      expect(stderr).toContain(`not a path. Received: ${outside}`);
    }
    // One unknown name stops the whole command before anything is removed.
    expect((await runCli('cache', 'remove', 'notes.txt', 'nothing.h5')).code).toBe(EXIT.input);
    expect(readdirSync(folder).sort()).toEqual([MOBILENET_025_NO_TOP, truncated, 'notes.txt']);

    const removed = await runCli('cache', 'remove', 'mobilenet');
    expect(removed).toEqual({
      code: EXIT.ok,
      stdout: `removed ${path.join(folder, MOBILENET_025_NO_TOP)}\nremoved ${path.join(folder, truncated)}\n`,
      stderr: '',
    });
    expect(await runCli('cache', 'remove', 'notes.txt', 'VGG16')).toEqual({
      code: EXIT.ok,
      stdout: `removed ${path.join(folder, 'notes.txt')}\n`,
      stderr: 'VGG16: no cached files\n',
    });
    expect(readdirSync(folder)).toEqual([]);
    expect(readdirSync(kerasHome).sort()).toEqual(['models', 'outside.h5']);
  });
});
