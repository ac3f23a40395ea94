import { describe, expect, it } from 'vitest';
import { fnv1a32, generatedInput, sampleIndices, uniform } from './helpers/generator';

// Test vectors from test/fixtures/keras-ref/README.md ("Generator spec").
describe('deterministic generator', () => {
  it('hashes names as the spec says', () => {
    expect(fnv1a32('input')).toBe(0xf9d86f7b);
    expect(fnv1a32('conv1/kernel')).toBe(0x7e290c0e);
  });

  it('generates the spec input values', () => {
    const input = generatedInput([1, 224, 224, 3]);
    expect(Array.from(input.subarray(0, 5))).toEqual([203.75345, 108.07082, 80.79446, 16.48692, 40.439316].map(Math.fround));
  });

  it('generates the spec kernel values', () => {
    const limit = Math.sqrt(3 / 27);
    const kernel = uniform('conv1/kernel', [3, 3, 3, 32], -limit, limit);
    expect(Array.from(kernel.subarray(0, 5))).toEqual(
      [-0.04183972, 0.18114376, 0.28861633, 0.25410935, -0.07468871].map(Math.fround),
    );
  });

  it('picks the spec sample indices', () => {
    expect(sampleIndices(1000, 5)).toEqual([599, 278, 293, 571, 426]);
  });
});
