import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { docExamples, runDocExample } from './helpers/doc-examples';
import { writeLegacyWeights } from './helpers/h5-writer';
import { generatedWeightsFile, fixtureConfig } from './helpers/keras-ref';
import { useOfflineKerasHome } from './helpers/offline-arguments';

// docs/classification.md runs as written, offline. Its MobileNetV2 file stands in the cache with the Keras
// fixture's deterministic weights (Keras publishes that file without a hash, so any complete copy is used):
// the code paths are the real ones, the classes are not ImageNet's.
const examples = docExamples('docs/classification.md');
useOfflineKerasHome('keras-classify-docs-', async (models) => {
  const config = fixtureConfig('MobileNetV2', 'top_default');
  await writeLegacyWeights(join(models, 'mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224.h5'), generatedWeightsFile(config));
});

describe('docs/classification.md', () => {
  it('has its five examples', () => expect(examples).toHaveLength(5));

  let oneLine: string[];
  it('one line: three classes, best first', async () => {
    oneLine = (await runDocExample(examples[0]!)).split('\n');
    expect(oneLine).toHaveLength(3);
    const percents = oneLine.map((line) => {
      const match = /^\S+ \((n\d{8})\): (\d+\.\d)%$/.exec(line);
      expect(match, line).not.toBeNull();
      return Number(match![2]);
    });
    expect(percents).toEqual([...percents].sort((a, b) => b - a));
  });

  it('several images, bytes and tensors', async () => {
    const [both, best] = (await runDocExample(examples[1]!)).split('\n');
    expect(both).toMatch(/^\S+ \S+$/);
    expect(best).toMatch(/^\S+$/);
  });

  it('the cached model', async () => {
    expect(await runDocExample(examples[2]!)).toBe('mobilenetv2_1.00_224 3538984');
  });

  it("music tags: the author's published top three", async () => {
    const published = JSON.parse(readFileSync('test/data/audio/published_tags.json', 'utf8'));
    const printed = (await runDocExample(examples[3]!)).split(', ').map((t) => t.replace(/ \d\.\d\d$/, ''));
    expect(printed).toEqual(published.results['bensound-cute.mp3'].slice(0, 3).map(([tag]: [string]) => tag));
  });

  it('step by step gives what the one line gave', async () => {
    const [printed] = (await runDocExample(examples[4]!)).split('\n');
    const steps = JSON.parse(printed!) as { classId: string; className: string; probability: number }[];
    expect(steps.map((p) => `${p.className} (${p.classId}): ${(p.probability * 100).toFixed(1)}%`)).toEqual(oneLine);
  });
});
