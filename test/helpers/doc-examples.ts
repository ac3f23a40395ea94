// Runs the TypeScript examples of a guide as a reader would: each ```ts block (a block without imports
// continues the one before it), with 'keras-applications' resolved to this repository's source, or, in a
// project folder, to the package installed there.
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import ts from 'typescript';
import { expect, it } from 'vitest';
import { readWeightsFile } from '../../src/weights/h5';
import { writeImage } from './image-folder';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** The runnable examples of `doc` (a path from the repository root), in order. */
export function docExamples(doc: string): string[] {
  const text = readFileSync(join(root, doc), 'utf8');
  const examples: string[] = [];
  for (const [, code] of text.matchAll(/```ts\n([\s\S]*?)```/g)) {
    if (/^import /m.test(code!) || examples.length === 0) examples.push(code!);
    else examples[examples.length - 1] += `\n${code}`;
  }
  return examples;
}

/** Runs one example as an ES module and returns what it printed with console.log / console.table. */
export async function runDocExample(code: string): Promise<string> {
  mkdirSync(join(root, '.tmp'), { recursive: true });
  const work = mkdtempSync(join(root, '.tmp', 'doc-example-'));
  const file = join(work, 'example.ts');
  const source = join(root, 'src', 'index.ts').replaceAll('\\', '/');
  writeFileSync(file, `${code.replaceAll("from 'keras-applications'", `from '${source}'`)}\nexport {};\n`);
  const printed: string[] = [];
  const { log, table } = console;
  console.log = (...values: unknown[]) => printed.push(values.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join(' '));
  console.table = (value: unknown) => printed.push(JSON.stringify(value));
  try {
    await import(pathToFileURL(file).href);
  } finally {
    console.log = log;
    console.table = table;
    rmSync(work, { recursive: true, force: true });
  }
  return printed.join('\n');
}

/**
 * Runs one example unchanged as an ES module of `project` (a folder with `node_modules/keras-applications`), in a
 * Node process started there as a user would; TypeScript's types are stripped first. Returns what it printed;
 * a failure rejects with its stderr.
 */
export async function runExampleInProject(code: string, project: string, env: NodeJS.ProcessEnv = {}): Promise<string> {
  const { outputText } = ts.transpileModule(code, { compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext } });
  const file = join(project, `example-${process.pid}-${Date.now()}.mjs`);
  writeFileSync(file, outputText);
  try {
    const { stdout } = await promisify(execFile)(process.execPath, [file], { cwd: project, env: { ...process.env, ...env }, maxBuffer: 16 << 20 });
    return stdout.trim();
  } catch (error) {
    const { stderr = '', message } = error as { stderr?: string; message: string };
    throw new Error(`${message}\n${stderr}`);
  } finally {
    rmSync(file, { force: true });
  }
}

/**
 * The README's inputs in `project`: the elephant photo, photos/ with two classes of five small images each, and
 * flowers.keras (Keras's mobilenetv2_head reference model: a frozen MobileNetV2 with a 5-class head).
 */
export async function writeReadmeInputs(project: string): Promise<void> {
  copyFileSync(join(root, 'test/data/images/elephant.jpg'), join(project, 'elephant.jpg'));
  copyFileSync(join(root, 'test/fixtures/keras-ref/models/mobilenetv2_head.keras'), join(project, 'flowers.keras'));
  for (const [className, grey] of [['dark', 40], ['light', 220]] as const) {
    for (let i = 0; i < 5; i++) await writeImage(join(project, 'photos', className, `${i}.png`), grey + 3 * i, 16, 16);
  }
}

/** Keras's top 5 for the bundled MobileNet on elephant.jpg: [classId, className, probability]. */
const kerasElephant: [string, string, number][] = JSON.parse(
  readFileSync(join(root, 'test/fixtures/keras-ref/real/mobilenet_025_128_predictions.json'), 'utf8'),
).images['elephant.jpg'];

/** What Keras's load_model computes for flowers.keras on elephant.jpg (test/fixtures/keras-configs/classify_reference.py). */
const kerasFlowerScores: number[] = (
  JSON.parse(readFileSync(join(root, 'test/fixtures/keras-configs/classify_reference.json'), 'utf8')) as {
    results: { model: string; images: string[]; scores: number[][] }[];
  }
).results.find((result) => result.model === 'mobilenetv2_head.keras')!.scores[0]!;

/**
 * Tests that run the README's examples (classify, one-line classify, features, transfer learning, a Keras model file) unchanged in
 * `project()` (made by writeReadmeInputs, the package in its node_modules), offline.
 */
export function itRunsTheReadmeExamples(project: () => string): void {
  const examples = docExamples('README.md');
  const env = () => ({ KERAS_HOME: join(project(), '.keras'), KERAS_APPLICATIONS_OFFLINE: '1' });
  const run = (index: number) => runExampleInProject(examples[index]!, project(), env());

  it('has its five examples', () => expect(examples).toHaveLength(5));

  it("classifies the elephant with Keras's top 3 and probabilities", async () => {
    const printed = [...(await run(0)).matchAll(/classId: '(\w+)',\s*className: '(\w+)',\s*probability: ([\d.e-]+)/g)];
    expect(printed.map(([, classId, className]) => [classId, className])).toEqual(kerasElephant.slice(0, 3).map(([id, name]) => [id, name]));
    printed.forEach(([, , , probability], i) => expect(Number(probability)).toBeCloseTo(kerasElephant[i]![2], 4));
  });

  it('classifies it in one call', async () => {
    const [className, probability] = (await run(1)).split(' ');
    expect(className).toBe('African_elephant');
    expect(Number(probability)).toBeCloseTo(kerasElephant[0]![2], 4);
  });

  it('prints the named features and the pyramid', async () => {
    const printed = await run(2);
    expect(printed).toContain("[ 'conv_pw_11_relu 1,8,8,128', 'conv_pw_13_relu 1,4,4,256' ]");
    expect(printed).toMatch(/layerName: 'conv_pw_5_relu'[\s\S]*layerName: 'conv_pw_11_relu'[\s\S]*layerName: 'conv_pw_13_relu'/);
  });

  it('trains a new head on photos/ and saves it as a Keras .h5', async () => {
    const tuned = join(project(), 'tuned.h5');
    rmSync(tuned, { force: true });
    expect(await run(3)).toContain('Found 10 files belonging to 2 classes.');
    const predictions = (await readWeightsFile(tuned)).layers.find((layer) => layer.name === 'predictions');
    expect(predictions?.weights.map((weight) => weight.shape)).toEqual([[256, 2], [2]]);
  });

  it("opens a Keras model file, saves it again and classifies with it as Keras does", async () => {
    const [shape, best] = (await run(4)).split('\n');
    expect(shape).toBe('[ null, 5 ]');
    const labels = ['daisy', 'dandelion', 'rose', 'sunflower', 'tulip'];
    const top = kerasFlowerScores.indexOf(Math.max(...kerasFlowerScores));
    const [className, probability] = best!.split(' ');
    expect(className).toBe(labels[top]);
    expect(Number(probability)).toBeCloseTo(kerasFlowerScores[top]!, 4);
  });
}
