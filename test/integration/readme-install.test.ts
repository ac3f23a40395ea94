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

/** npm in `cwd`, without the settings of an `npm run` that started these tests (they would point at the repository). */
async function npm(args: string[], cwd: string): Promise<string> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^npm_/i.test(name)));
  const { stdout } = await run('npm', args, { cwd, env, maxBuffer: 64 << 20 });
  return stdout;
}

describe('the packed package, installed as the README says', () => {
  let project: string;
  beforeAll(async () => {
    project = mkdtempSync(join(tmpdir(), 'keras-integration-'));
    const [{ filename }] = JSON.parse(await npm(['pack', '--json', '--pack-destination', project], root));
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'readme-user', private: true, type: 'module' }));
    const packages = readmeInstalls().map((name) => (name === 'keras-applications' ? join(project, filename) : name));
    // Packages already in npm's cache are not fetched again.
    await npm(['install', '--prefer-offline', '--no-audit', '--no-fund', ...packages], project);
    await writeReadmeInputs(project);
  });
  afterAll(() => rmSync(project, { recursive: true, force: true }));

  it('installs the package and the peers the README lists', () => {
    expect(readmeInstalls()).toEqual(['keras-applications', '@tensorflow/tfjs-data']);
    const installed = JSON.parse(readFileSync(join(project, 'node_modules/keras-applications/package.json'), 'utf8'));
    expect(installed.version).toBe(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version);
  });

  itRunsTheReadmeExamples(() => project);
});
