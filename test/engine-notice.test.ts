// Without onnxruntime-node, the first engine choice says once per process that the fast engine is missing and how to
// add it; KERAS_APPLICATIONS_VERBOSE=1 gives the per-engine reasons instead.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const HOOKS = pathToFileURL(path.join(ROOT, 'test/helpers/without-onnxruntime.mjs')).href;

/** Compiles two models for inference in a child where onnxruntime-node cannot be found; its engines and stderr. */
function compileTwiceWithoutOnnxRuntime(env: Record<string, string> = {}) {
  const script = `
    const m = await import(${JSON.stringify(path.join(ROOT, 'dist/index.js'))});
    const engines = [];
    for (let i = 0; i < 2; i++) {
      const model = await m.mobilenet({ weights: null, alpha: 0.25, inputShape: [32, 32, 3], includeTop: false });
      const predictor = await m.compileForInference(model);
      engines.push(predictor.engine);
      predictor.dispose();
      model.dispose();
    }
    console.log(JSON.stringify(engines));`;
  const register = `data:text/javascript,import{register}from'node:module';register(${JSON.stringify(HOOKS)});`;
  const child = spawnSync(process.execPath, ['--import', register, '--input-type=module', '-e', script], {
    encoding: 'utf8',
    env: { ...process.env, KERAS_APPLICATIONS_VERBOSE: '', KERAS_APPLICATIONS_ENGINE: '', ...env },
    timeout: 60_000,
  });
  return { status: child.status, engines: JSON.parse(child.stdout.trim().split('\n').at(-1) ?? 'null') as string[], stderr: child.stderr };
}

describe('compileForInference without onnxruntime-node', () => {
  it('says once per process what is missing and the command that adds it, then uses tfjs-fused', () => {
    const { status, engines, stderr } = compileTwiceWithoutOnnxRuntime();
    expect(status).toBe(0);
    expect(engines).toEqual(['tfjs-fused', 'tfjs-fused']);
    const notices = stderr.split('\n').filter((line) => line.startsWith('keras-applications: onnxruntime-node is not installed'));
    expect(notices).toHaveLength(1);
    expect(notices[0]).toContain('`npm install onnxruntime-node`');
    expect(notices[0]).toContain('ONNXRUNTIME_NODE_INSTALL=skip');
  });

  it('with KERAS_APPLICATIONS_VERBOSE=1 gives the reasons for each choice instead', () => {
    const { stderr } = compileTwiceWithoutOnnxRuntime({ KERAS_APPLICATIONS_VERBOSE: '1' });
    expect(stderr).not.toContain('onnxruntime-node is not installed, so');
    const choices = stderr.split('\n').filter((line) => line.startsWith("keras-applications: predicting with 'tfjs-fused'"));
    expect(choices).toHaveLength(2);
    expect(choices[0]).toContain("onnxruntime on the cpu: The 'onnxruntime' engine needs the optional package onnxruntime-node");
  });
});
