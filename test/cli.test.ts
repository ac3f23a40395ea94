import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { main } from '../src/cli';
import { applications } from '../src/applications/registry';

const ELEPHANT = 'test/data/images/elephant.jpg';
// The CLI lists the registry, in its order.
const MODELS = Object.keys(applications);

/** Runs the command in-process and collects what it writes. */
async function run(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
  });
  return { code, stdout, stderr };
}

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
  it('lists every model with its input size, preprocessing, parameters and top-1', async () => {
    const { code, stdout, stderr } = await run('list');
    expect(code).toBe(0);
    expect(stderr).toBe('');
    const lines = stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^Model +Input +Preprocessing +Parameters +Top-1$/);
    expect(lines.slice(1).map((line) => line.split(/ +/)[0])).toEqual(MODELS);
    expect(lines[1]).toMatch(/^VGG16 +224×224 +caffe +138,357,544 +71\.3%$/);
    const json = JSON.parse((await run('list', '--json')).stdout);
    expect(json.map((m: { model: string }) => m.model)).toEqual(MODELS);
    expect(json[2]).toEqual({ model: 'ResNet50', inputSize: 224, preprocessing: 'caffe', parameters: 25_636_712, top1: 0.749 });
  });

  it('prints help and the package version', async () => {
    const help = await run('--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('keras-applications classify <image...>');
    const version = await run('--version');
    const pkg = JSON.parse(await readFile('package.json', 'utf8'));
    expect(version).toEqual({ code: 0, stdout: `${pkg.version}\n`, stderr: '' });
  });

  it.each([
    [['classify', ELEPHANT, '--model', 'ResNet42'], "error: unknown model 'ResNet42'. Known: VGG16, VGG19, ResNet50"],
    [['classify', ELEPHANT, '--frobnicate'], "error: Unknown option '--frobnicate'"],
    [['classify', ELEPHANT, '--top', '0'], 'error: --top must be a positive integer. Received: 0'],
    [['classify', ELEPHANT, '--backend', 'gpu'], 'error: --backend must be one of wasm, cpu, tensorflow, tensorflow-gpu'],
    [['classify'], "error: 'classify' needs at least one image"],
    [['frobnicate'], "error: unknown command 'frobnicate'"],
    [[], 'error: no command given'],
  ])('answers %j with the usage and exit code 2', async (argv, message) => {
    const { code, stdout, stderr } = await run(...argv);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain(message);
    expect(stderr).toContain('Usage:');
  });

  it('reports a missing image without a stack trace, before any download', async () => {
    const { code, stderr } = await run('classify', 'no/such/image.jpg');
    expect(code).toBe(1);
    expect(stderr).toBe("error: Cannot read image 'no/such/image.jpg': no such file\n");
  });

  it('ends with the download error, naming the URL and where to put the file, when offline', async () => {
    const { code, stdout, stderr } = await run('classify', ELEPHANT, '--model', 'VGG16');
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/^error: /);
    expect(stderr).not.toMatch(/\n\s+at /);
    expect(stderr).toContain(
      'https://storage.googleapis.com/tensorflow/keras-applications/vgg16/vgg16_weights_tf_dim_ordering_tf_kernels.h5',
    );
    expect(stderr).toContain(path.join(kerasHome, 'models', 'vgg16_weights_tf_dim_ordering_tf_kernels.h5'));
  });

  it('classifies images end to end (random weights), as a table and as JSON', async () => {
    const table = await run('classify', ELEPHANT, 'test/data/images/cat.jpg', '--model', 'resnet50', '--weights', 'none', '--top', '3');
    expect(table.stderr).toBe('');
    expect(table.code).toBe(0);
    const blocks = table.stdout.trimEnd().split('\n\n');
    expect(blocks).toHaveLength(2);
    expect(blocks[0].split('\n')[0]).toBe(`${ELEPHANT} (ResNet50)`);
    expect(blocks[0].split('\n')[1]).toMatch(/^# +Class +Probability$/);
    expect(blocks[0].split('\n').slice(2).map((line) => line.trim().split(/ +/)[0])).toEqual(['1', '2', '3']);
    expect(blocks[0]).toMatch(/ \d+\.\d\d%$/m);

    const json = await run('classify', ELEPHANT, '--model', 'ResNet50', '--weights', 'none', '--top', '2', '--json');
    expect(json.code).toBe(0);
    const parsed = JSON.parse(json.stdout);
    expect(parsed.model).toBe('ResNet50');
    expect(parsed.results).toHaveLength(1);
    expect(parsed.results[0].image).toBe(ELEPHANT);
    const [first, second] = parsed.results[0].predictions;
    expect(Object.keys(first).sort()).toEqual(['classId', 'className', 'probability']);
    expect(first.probability).toBeGreaterThanOrEqual(second.probability);
  });

  it("tags a music clip with MusicTaggerCRNN and the author's weights, as the author published", async () => {
    const published = JSON.parse(await readFile('test/data/audio/published_tags.json', 'utf8'));
    const clip = 'test/data/audio/bensound-cute.mp3';
    const weights = 'test/data/audio/music_tagger_crnn_weights_tensorflow.h5';
    const { code, stdout } = await run('classify', clip, '--model', 'MusicTaggerCRNN', '--weights', weights, '--top', '3', '--json');
    expect(code).toBe(0);
    const { results } = JSON.parse(stdout);
    const expected = published.results['bensound-cute.mp3'].slice(0, 3) as [string, number][];
    expect(results[0].clip).toBe(clip);
    expect(results[0].tags.map((t: { tag: string }) => t.tag)).toEqual(expected.map(([tag]) => tag));
    results[0].tags.forEach((t: { score: number }, i: number) => expect(Math.abs(t.score - expected[i]![1])).toBeLessThan(0.02));
  });
});
