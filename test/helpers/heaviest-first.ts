// Test files in the order that keeps both workers busy to the end: the longest first (measured with vitest's JSON
// reporter on 2 cores), then the rest as vitest orders them. Without it a fresh clone, which has no timing cache,
// starts with the largest files by size, and the short fixture files with the longest runs come last.
import { BaseSequencer, type TestSpecification } from 'vitest/node';

const LONGEST_FIRST = [
  'keras-ref-regnet-x', 'keras-ref-regnet-y', 'keras-ref-convnext-large', 'keras-ref-resnet-rs', 'keras-ref-convnext',
  'memory', 'keras-ref-efficientnet-v2', 'inference-fused', 'keras-ref-efficientnet', 'h5-fuzz', 'keras-ref-vgg-resnet',
  'arguments-convnext', 'features', 'keras-ref-resnext', 'inference-onnx', 'features-fuzz', 'docs', 'melgram',
  'keras-ref-nasnet', 'cli', 'legacy-official-weights', 'transfer-notebook', 'save-keras-model',
].map((name) => `/test/${name}.test.ts`);

export default class HeaviestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const rank = (file: TestSpecification) => {
      const index = LONGEST_FIRST.findIndex((suffix) => file.moduleId.endsWith(suffix));
      return index < 0 ? LONGEST_FIRST.length : index;
    };
    // Array.prototype.sort is stable: files of equal rank keep vitest's order.
    return (await super.sort(files)).sort((a, b) => rank(a) - rank(b));
  }
}
