import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { docExamples, itRunsTheReadmeExamples, runExampleInProject, writeReadmeInputs } from './helpers/doc-examples';

// The README and the guides as a reader uses them: links lead to files, TypeScript examples compile against
// the built package, the README's and the fine-tuning guide's run against it, and documented `node dist/cli.js`
// output is what the command prints.
const root = fileURLToPath(new URL('..', import.meta.url));
const run = promisify(execFile);

const allDocs = ['README.md', ...readdirSync(join(root, 'docs')).filter((name) => name.endsWith('.md')).map((name) => `docs/${name}`)];
/**
 * The documents whose examples are checked. performance.md shows fragments that use names from its benchmarks'
 * sources (`batch`), so they do not compile alone.
 */
const checkedDocs = [
  'README.md',
  'docs/fine-tuning.md',
  'docs/backends.md',
  'docs/offline.md',
  'docs/browser.md',
  'docs/classification.md',
  'docs/feature-extraction.md',
  'docs/images.md',
];

interface Block {
  lang: string;
  code: string;
  /** Preceded by `<!-- not checked: why -->`. */
  skipped: boolean;
}

function codeBlocks(doc: string): Block[] {
  const text = readFileSync(join(root, doc), 'utf8');
  return [...text.matchAll(/(<!-- not checked[^>]*-->\s*)?```(\w*)\n([\s\S]*?)```/g)].map(([, skip, lang, code]) => ({
    lang: lang!,
    code: code!,
    skipped: skip !== undefined,
  }));
}

describe('links', () => {
  it.each(allDocs)('%s links only to files that exist', (doc) => {
    const text = readFileSync(join(root, doc), 'utf8').replace(/```[\s\S]*?```/g, '');
    const missing = [...text.matchAll(/\]\(([^)\s]+)\)/g)]
      .map(([, target]) => target!.split('#')[0]!)
      .filter((target) => target !== '' && !/^[a-z]+:/i.test(target))
      .filter((target) => !existsSync(resolve(root, dirname(doc), target)));
    expect(missing).toEqual([]);
  });
});

describe('TypeScript examples compile against the built package', () => {
  it.each(checkedDocs)('%s', (doc) => {
    expect(existsSync(join(root, 'dist/index.d.ts')), 'dist/ is missing: run `npm run build`').toBe(true);
    // Inside the repository, so that 'keras-applications' resolves to this package by its name.
    mkdirSync(join(root, '.tmp'), { recursive: true });
    const work = mkdtempSync(join(root, '.tmp', 'docs-'));
    try {
      // A block without imports continues the one before it (it uses its names).
      const modules: string[] = [];
      for (const { code } of codeBlocks(doc).filter((b) => b.lang === 'ts' && !b.skipped)) {
        if (/^import /m.test(code) || modules.length === 0) modules.push(code);
        else modules[modules.length - 1] += `\n${code}`;
      }
      const files = modules.map((code, i) => {
        const file = join(work, `example-${i}.ts`);
        writeFileSync(file, `${code}\nexport {};\n`);
        return file;
      });
      const program = ts.createProgram(files, {
        target: ts.ScriptTarget.ES2022,
        module: ts.ModuleKind.ESNext,
        moduleResolution: ts.ModuleResolutionKind.Bundler,
        lib: ['lib.es2022.d.ts', 'lib.dom.d.ts'],
        types: ['node'],
        strict: true,
        skipLibCheck: true,
        noEmit: true,
      });
      const errors = ts.getPreEmitDiagnostics(program).map((d) => {
        const where = d.file ? `${d.file.fileName.slice(work.length + 1)}:${d.file.getLineAndCharacterOfPosition(d.start!).line + 1}` : '';
        return `${where} ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
      });
      expect(errors).toEqual([]);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
});

/** `[VAR=value …] node dist/cli.js …` lines followed by `# output` comment lines, from the sh blocks. */
function documentedCommands(doc: string): { command: string; output: string }[] {
  const found: { command: string; output: string }[] = [];
  for (const { code } of codeBlocks(doc).filter((b) => b.lang === 'sh' && !b.skipped)) {
    const lines = code.split('\n');
    lines.forEach((line, i) => {
      if (!/^(\w+=\S+ )*node dist\/cli\.js /.test(line)) return;
      const comments: string[] = [];
      for (let j = i + 1; j < lines.length && lines[j]!.startsWith('#'); j++) comments.push(lines[j]!.slice(1).trim());
      if (comments.length > 0) found.push({ command: line, output: comments.join(' ') });
    });
  }
  return found;
}

describe('documented command output', () => {
  const cases = checkedDocs.flatMap((doc) => documentedCommands(doc).map(({ command, output }) => ({ doc, command, output })));

  it('finds the documented commands', () => {
    expect(cases.length).toBeGreaterThanOrEqual(2);
  });

  it.each(cases)('$doc: $command', async ({ command, output }) => {
    const home = mkdtempSync(join(tmpdir(), 'keras-docs-home-'));
    try {
      const [, assignments = '', args] = command.match(/^((?:\w+=\S+ )*)node (.*)$/)!;
      const env: NodeJS.ProcessEnv = { ...process.env, HOME: home, KERAS_HOME: undefined, KERAS_APPLICATIONS_OFFLINE: undefined };
      for (const assignment of assignments.trim().split(' ').filter(Boolean)) {
        const [name, value] = assignment.split('=') as [string, string];
        env[name] = value;
      }
      // Without network access a download fails; offline mode makes that immediate and certain.
      env.KERAS_APPLICATIONS_OFFLINE ??= '1';
      const result = await run('node', args!.split(' '), { cwd: root, env }).catch((error: { stdout: string; stderr: string }) => error);
      const printed = `${result.stdout}${result.stderr}`.replace(/\s+/g, ' ');
      // '…' in the documentation stands for text left out; /home/you for the user's home.
      for (const fragment of output.replaceAll('/home/you', home).split('…').map((f) => f.trim()).filter(Boolean)) {
        expect(printed).toContain(fragment);
      }
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});

/**
 * A user's project folder: this package in node_modules (a link to the repository, so dist/ is what runs; tfjs
 * linked beside it), the README's inputs beside it.
 */
describe('the examples run against the built package', () => {
  let project: string;
  beforeAll(async () => {
    expect(existsSync(join(root, 'dist/index.js')), 'dist/ is missing: run `npm run build`').toBe(true);
    project = mkdtempSync(join(tmpdir(), 'keras-docs-project-'));
    mkdirSync(join(project, 'node_modules'));
    symlinkSync(root, join(project, 'node_modules', 'keras-applications'), 'dir');
    symlinkSync(join(root, 'node_modules', '@tensorflow'), join(project, 'node_modules', '@tensorflow'), 'dir');
    await writeReadmeInputs(project);
  });
  afterAll(() => rmSync(project, { recursive: true, force: true }));

  describe('README.md', () => itRunsTheReadmeExamples(() => project));

  it('docs/fine-tuning.md: trains the head, then the top blocks it documents', async () => {
    const [example] = docExamples('docs/fine-tuning.md');
    const printed = await runExampleInProject(example!, project, { KERAS_HOME: join(project, '.keras'), KERAS_APPLICATIONS_OFFLINE: '1' });
    const documented = /^\/\/ (conv_dw_12\/.*)$/m.exec(example!)![1]!;
    expect(printed.split('\n').at(-1)).toBe(documented);
  });
});
