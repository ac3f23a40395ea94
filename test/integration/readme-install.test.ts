import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { itRunsTheReadmeExamples, writeReadmeInputs } from '../helpers/doc-examples';

// The package as a user gets it: `npm pack`, installed in a new project with the commands of the README's install
// block, then the README's examples run there unchanged.
const root = fileURLToPath(new URL('../..', import.meta.url));
const run = promisify(execFile);

/**
 * The packages of the README's `npm install keras-applications` block, in its order, without those it calls
 * optional (tfjs-node downloads native TensorFlow from outside the npm registry).
 */
function readmeInstalls(): string[] {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const block = [...readme.matchAll(/```sh\n([\s\S]*?)```/g)].map(([, code]) => code!).find((code) => /^npm install keras-applications\b/m.test(code))!;
  return [...block.matchAll(/^npm install (\S+)[^\n#]*(#.*)?$/gm)].filter(([, , comment = '']) => !/optional/i.test(comment)).map(([, name]) => name!);
}

/** The README's install setting for machines that cannot reach ONNX Runtime's CUDA download, as this one. */
const FIREWALLED_INSTALL = 'ONNXRUNTIME_NODE_INSTALL=skip npm install keras-applications';

/**
 * npm in `cwd`, without the settings of an `npm run` that started these tests (they would point at the repository)
 * and without ONNXRUNTIME_NODE_INSTALL unless `extraEnv` sets it.
 */
async function npm(args: string[], cwd: string, extraEnv: Record<string, string> = {}): Promise<string> {
  const inherited = Object.entries(process.env).filter(([name]) => !/^(npm_|ONNXRUNTIME_NODE_INSTALL)/i.test(name));
  const { stdout } = await run('npm', args, { cwd, env: { ...Object.fromEntries(inherited), ...extraEnv }, maxBuffer: 64 << 20 });
  return stdout;
}

/** A new project with the packed package installed the README's way; `extraEnv` for the firewalled setting. */
async function scratchProject(tarball: string, extraEnv: Record<string, string> = {}): Promise<string> {
  const project = mkdtempSync(join(tmpdir(), 'keras-integration-'));
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'readme-user', private: true, type: 'module' }));
  const packages = readmeInstalls().map((name) => (name === 'keras-applications' ? tarball : name));
  // Packages already in npm's cache are not fetched again.
  await npm(['install', '--prefer-offline', '--no-audit', '--no-fund', ...packages], project, extraEnv);
  return project;
}

/** The engine compileForInference picks in `project`, and what it printed. */
async function engineIn(project: string): Promise<{ engine: string; stderr: string }> {
  const script = `
    import { compileForInference, mobilenet } from 'keras-applications';
    const model = await mobilenet({ alpha: 0.25, inputShape: [128, 128, 3] });
    console.log((await compileForInference(model)).engine);`;
  writeFileSync(join(project, 'engine.mjs'), script);
  const { stdout, stderr } = await run(process.execPath, ['engine.mjs'], { cwd: project });
  return { engine: stdout.trim(), stderr };
}

describe('the packed package, installed as the README says', () => {
  let tarballFolder: string;
  let tarball: string;
  let project: string;
  beforeAll(async () => {
    tarballFolder = mkdtempSync(join(tmpdir(), 'keras-pack-'));
    const [{ filename }] = JSON.parse(await npm(['pack', '--json', '--pack-destination', tarballFolder], root));
    tarball = join(tarballFolder, filename);
    expect(readFileSync(join(root, 'README.md'), 'utf8')).toContain(FIREWALLED_INSTALL);
    project = await scratchProject(tarball, { ONNXRUNTIME_NODE_INSTALL: 'skip' });
    await writeReadmeInputs(project);
  });
  afterAll(() => {
    rmSync(project, { recursive: true, force: true });
    rmSync(tarballFolder, { recursive: true, force: true });
  });

  it('installs the package and the peers the README lists', () => {
    expect(readmeInstalls()).toEqual(['keras-applications', '@tensorflow/tfjs-data']);
    const installed = JSON.parse(readFileSync(join(project, 'node_modules/keras-applications/package.json'), 'utf8'));
    expect(installed.version).toBe(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version);
  });

  it('brings ONNX Runtime, and compileForInference predicts with it', async () => {
    const { engine, stderr } = await engineIn(project);
    expect(engine).toBe('onnxruntime');
    expect(stderr).not.toContain('onnxruntime-node is not installed');
  });

  it('installs without the setting too, dropping ONNX Runtime where its CUDA download fails, and says so at run time', async () => {
    const plain = await scratchProject(tarball);
    try {
      const { engine, stderr } = await engineIn(plain);
      expect(['onnxruntime', 'tfjs-fused']).toContain(engine);
      // Here the CUDA host cannot be reached: the optional dependency is dropped and the first choice says so.
      if (engine === 'tfjs-fused') expect(stderr).toContain('keras-applications: onnxruntime-node is not installed');
    } finally {
      rmSync(plain, { recursive: true, force: true });
    }
  });

  itRunsTheReadmeExamples(() => project);
});
