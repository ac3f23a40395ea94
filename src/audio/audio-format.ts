// Recognising audio files by their first bytes, before any decoder sees them: mpg123 resyncs through anything
// and finds "frames" in a JPEG, so bytes are only handed to it when they start like an MPEG audio stream.
// No imports: image loading uses this too, to tell an audio clip from an unreadable image.

/** The audio formats `decodeAudio` reads: RIFF WAVE, and MPEG audio (mp3, and layers I and II). */
export type AudioFormat = 'WAV' | 'MP3';

/** How far past an ID3v2 tag the first frame is looked for: taggers leave an ID3v1 block or padding there. */
const FRAME_SEARCH_AFTER_TAG = 64 * 1024;

/** `length` bytes from `at` as Latin-1 text: chunk ids and signatures. */
export const ascii = (bytes: Uint8Array, at: number, length: number): string => String.fromCharCode(...bytes.subarray(at, at + length));

/** `'WAV'` or `'MP3'` when `bytes` start like such a file, else undefined. */
export function audioFormat(bytes: Uint8Array): AudioFormat | undefined {
  if (ascii(bytes, 0, 4) === 'RIFF' && ascii(bytes, 8, 4) === 'WAVE') return 'WAV';
  const tagEnd = id3v2End(bytes);
  // Without a tag the stream must start with a frame; a tag says the file is audio, so its first frame may be further on.
  const lastStart = tagEnd === 0 ? 0 : Math.min(bytes.length, tagEnd + FRAME_SEARCH_AFTER_TAG);
  for (let at = tagEnd; at <= lastStart; at++) if (startsMpegStream(bytes, at)) return 'MP3';
  return undefined;
}

/** Where the ID3v2 tags at the start of `bytes` end (0 without one): "ID3", version, flags, a syncsafe size. */
function id3v2End(bytes: Uint8Array): number {
  let at = 0;
  while (ascii(bytes, at, 3) === 'ID3' && bytes.length >= at + 10) {
    const [major, revision, flags] = [bytes[at + 3]!, bytes[at + 4]!, bytes[at + 5]!];
    const size = bytes.subarray(at + 6, at + 10);
    if (major === 0xff || revision === 0xff || size.some((b) => b >= 0x80)) break;
    const footer = flags & 0x10 ? 10 : 0;
    at += 10 + footer + size.reduce((total, b) => total * 128 + b, 0);
  }
  return at;
}

interface FrameHeader {
  version: number;
  layer: number;
  sampleRate: number;
  length: number;
}

/**
 * A frame header at `at` whose next frame, where its length puts it, has the same version, layer and rate (or
 * the bytes end first, as in a truncated file): one sync word alone turns up by chance in any binary file.
 */
function startsMpegStream(bytes: Uint8Array, at: number): boolean {
  const first = frameHeader(bytes, at);
  if (!first) return false;
  const nextAt = at + first.length;
  if (nextAt + 4 > bytes.length) return true;
  const next = frameHeader(bytes, nextAt);
  return next !== undefined && next.version === first.version && next.layer === first.layer && next.sampleRate === first.sampleRate;
}

const MPEG1 = 3;
const LAYER_1 = 3;
/** Bit rates in kbit/s by [MPEG-1, MPEG-2/2.5][layer I, II, III][index]; free format (index 0) is not recognised. */
const BIT_RATES = [
  [
    [0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448],
    [0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384],
    [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320],
  ],
  [
    [0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256],
    [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
    [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
  ],
];
/** Sample rates by version bits (0: MPEG-2.5, 2: MPEG-2, 3: MPEG-1; 1 is reserved). */
const SAMPLE_RATES: Record<number, number[]> = { 0: [11025, 12000, 8000], 2: [22050, 24000, 16000], 3: [44100, 48000, 32000] };

/** The MPEG audio frame header at `at` (11 sync bits, then no reserved value), or undefined. */
function frameHeader(bytes: Uint8Array, at: number): FrameHeader | undefined {
  if (at + 4 > bytes.length || bytes[at] !== 0xff || (bytes[at + 1]! & 0xe0) !== 0xe0) return undefined;
  const version = (bytes[at + 1]! >> 3) & 3;
  const layer = (bytes[at + 1]! >> 1) & 3;
  const bitRateIndex = bytes[at + 2]! >> 4;
  const sampleRate = SAMPLE_RATES[version]?.[(bytes[at + 2]! >> 2) & 3];
  if (layer === 0 || bitRateIndex === 0 || bitRateIndex === 15 || sampleRate === undefined) return undefined;
  const bitRate = BIT_RATES[version === MPEG1 ? 0 : 1]![3 - layer]![bitRateIndex]! * 1000;
  const padding = (bytes[at + 2]! >> 1) & 1;
  // Samples per frame / 8: Layer I 384 (in 4-byte slots), Layer II 1152, Layer III 1152 (MPEG-1) or 576.
  const length =
    layer === LAYER_1
      ? (Math.floor((12 * bitRate) / sampleRate) + padding) * 4
      : Math.floor(((layer === 1 && version !== MPEG1 ? 72 : 144) * bitRate) / sampleRate) + padding;
  return { version, layer, sampleRate, length };
}
