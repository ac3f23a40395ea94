// MusicTaggerCRNN's input: the author's `compute_melgram` (audio_processor.py, librosa of 2016) in
// TypeScript. Decode to mono, resample to 12 kHz, keep the middle 29.12 s, mel power spectrogram, square
// it once more (as the author did), decibels with librosa's `logamplitude(ref_power=1.0)`.
import * as tf from '@tensorflow/tfjs-core';
import { ensureBackend } from '../backend';
import { ArgumentError } from '../errors';
import { isNode } from '../env';
import { fetchInputFile, validateStreamOptions, type StreamOptions } from '../weights/download';
import { DEFAULT_MAX_INPUT_BYTES, firstBytes, readRegularFile } from '../files';
import { imageFormat } from '../image/image-source';
import { resampleRange } from '../image/resample';
import { ascii, audioFormat } from './audio-format';

/** A path (Node) or URL of an mp3 or wav file, or the file's bytes. */
export type AudioSource = string | Uint8Array | ArrayBuffer;

/** Decoded audio: one Float32Array of samples in [-1, 1] per channel. */
export interface DecodedAudio {
  sampleRate: number;
  channelData: Float32Array[];
}

const SAMPLE_RATE = 12_000;
const N_FFT = 512;
const HOP = 256;
const N_MELS = 96;
/** 29.12 s at 12 kHz: 1366 frames. */
const N_SAMPLES = 349_440;
const N_FRAMES = 1 + Math.floor(N_SAMPLES / HOP);
const AMIN = 1e-10;
const TOP_DB = 80;
/**
 * MP3's decoder delay: 528 + 1 samples of filter bank latency, at the stream's rate. mpg123 outputs every
 * frame's samples as they come; the decoder behind librosa in 2016 had dropped this delay from the start of
 * the stream and flushed as much at its end (same length, content 529 samples earlier). Measured on the
 * author's four clips: only with this shift (±2 samples) do the middle 29.12 s, and so the frames, line up
 * with the author's spectrograms (under 0.001 dB mean difference, against 2–6 dB without).
 */
const MP3_DECODER_DELAY = 529;

/** How a clip is read: a size limit for paths and URLs, and for URLs the download's idle timeout, deadline and signal. */
export type AudioReadOptions = Pick<StreamOptions, 'timeoutMs' | 'deadlineMs' | 'signal' | 'maxBytes'>;

/** The clip's bytes and how messages name it: its path or URL, or its length. */
async function readSource(source: AudioSource, options: AudioReadOptions): Promise<{ bytes: Uint8Array; name: string }> {
  const { maxBytes = DEFAULT_MAX_INPUT_BYTES, ...fetching } = options;
  validateStreamOptions({ ...fetching, maxBytes });
  if (source instanceof Uint8Array) return { bytes: source, name: `<${source.byteLength} bytes>` };
  if (source instanceof ArrayBuffer) return { bytes: new Uint8Array(source), name: `<${source.byteLength} bytes>` };
  if (typeof source !== 'string') {
    throw new ArgumentError(`Expected the path, URL or bytes of an audio file. Received: ${typeof source}`);
  }
  if (/^https?:/i.test(source) || !isNode()) {
    return { bytes: await fetchInputFile(source, 'audio', { ...fetching, maxBytes }), name: `'${source}'` };
  }
  const path = source.startsWith('file:') ? (await import('node:url')).fileURLToPath(source) : source;
  const fail = (why: string) => new ArgumentError(`Cannot read audio '${path}': ${why}`);
  return { bytes: await readRegularFile(path, { maxBytes, fail, maxBytesOption: 'maxBytes' }), name: `'${path}'` };
}

/**
 * Decodes a WAV (PCM 8/16/24/32-bit or IEEE float, WAVE_FORMAT_EXTENSIBLE included) or an MP3 file, told apart
 * by their first bytes; anything else (an image, a corrupt stream) is an ArgumentError naming the file.
 * Integer samples are scaled as librosa did: divided by 2^(bits-1).
 */
export async function decodeAudio(source: AudioSource, options: AudioReadOptions = {}): Promise<DecodedAudio> {
  const { bytes, name } = await readSource(source, options);
  const format = audioFormat(bytes);
  if (format === 'WAV') return decodeWav(bytes, name);
  if (format === 'MP3') return decodeMp3(bytes, name);
  const image = imageFormat(bytes);
  if (image) {
    throw new ArgumentError(
      `Cannot decode audio ${name}: it is a ${image} image. MusicTaggerCRNN takes mp3 or wav clips; images are for the image models`,
    );
  }
  throw new ArgumentError(
    `Cannot decode audio ${name}: neither WAV nor MPEG audio (it starts with bytes ${firstBytes(bytes)}). MusicTaggerCRNN takes mp3 or wav clips`,
  );
}

async function decodeMp3(bytes: Uint8Array, name: string): Promise<DecodedAudio> {
  const { MPEGDecoder } = await import('mpg123-decoder');
  // No gapless trimming, which would also cut a LAME header's encoder delay and padding: the shift below is all.
  const decoder = new MPEGDecoder({ enableGapless: false });
  await decoder.ready;
  try {
    const { channelData, samplesDecoded, sampleRate, errors } = withoutDecoderLogging(() => decoder.decode(bytes));
    const [firstError] = errors;
    if (firstError) {
      const { message, inputBytes } = firstError;
      throw new ArgumentError(
        `Cannot decode audio ${name}: the MPEG stream is corrupt (${errors.length} decoder errors, the first "${message}" ` +
          `within the first ${inputBytes} bytes)`,
      );
    }
    if (samplesDecoded === 0) throw new ArgumentError(`Cannot decode audio ${name}: it holds no complete MPEG audio frame (truncated?)`);
    return { sampleRate, channelData: channelData.map((channel) => withoutDecoderDelay(channel, samplesDecoded)) };
  } finally {
    decoder.free();
  }
}

const DECODER_LOG_PREFIX = 'mpg123-decoder: ';

/**
 * Runs `decode` with mpg123-decoder's console.error lines dropped: it logs each error it also returns, and those
 * become one ArgumentError. The decoding is synchronous, so no other code logs in the meantime.
 */
function withoutDecoderLogging<T>(decode: () => T): T {
  const consoleError = console.error;
  console.error = (...args: unknown[]) => {
    if (!(typeof args[0] === 'string' && args[0].startsWith(DECODER_LOG_PREFIX))) consoleError(...args);
  };
  try {
    return decode();
  } finally {
    console.error = consoleError;
  }
}

function withoutDecoderDelay(channel: Float32Array, length: number): Float32Array {
  const out = new Float32Array(length);
  out.set(channel.subarray(MP3_DECODER_DELAY, length));
  return out;
}

function decodeWav(bytes: Uint8Array, name: string): DecodedAudio {
  const fail = (why: string) => new ArgumentError(`Cannot read WAV ${name}: ${why}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let format: { tag: number; channels: number; sampleRate: number; bits: number } | undefined;
  for (let at = 12; at + 8 <= bytes.length; ) {
    const id = ascii(bytes, at, 4);
    const size = view.getUint32(at + 4, true);
    const body = at + 8;
    if (id === 'fmt ') {
      let tag = view.getUint16(body, true);
      // WAVE_FORMAT_EXTENSIBLE keeps the real format in the first two bytes of its sub-format GUID.
      if (tag === 0xfffe && size >= 26) tag = view.getUint16(body + 24, true);
      const [channels, sampleRate, bits] = [view.getUint16(body + 2, true), view.getUint32(body + 4, true), view.getUint16(body + 14, true)];
      if (channels === 0 || sampleRate === 0) throw fail('it gives no channels or no sample rate');
      format = { tag, channels, sampleRate, bits };
    } else if (id === 'data') {
      if (!format) throw fail('its data chunk comes before its fmt chunk');
      return { sampleRate: format.sampleRate, channelData: wavSamples(view, body, Math.min(size, bytes.length - body), format, fail) };
    }
    at = body + size + (size % 2);
  }
  throw fail('it has no data chunk');
}

function wavSamples(
  view: DataView,
  start: number,
  size: number,
  { tag, channels, bits }: { tag: number; channels: number; bits: number },
  fail: (why: string) => Error,
): Float32Array[] {
  const read = sampleReader(view, tag, bits, fail);
  const width = bits / 8;
  const frames = Math.floor(size / (width * channels));
  const out = Array.from({ length: channels }, () => new Float32Array(frames));
  for (let f = 0, at = start; f < frames; f++) {
    for (let c = 0; c < channels; c++, at += width) out[c]![f] = read(at);
  }
  return out;
}

function sampleReader(view: DataView, tag: number, bits: number, fail: (why: string) => Error): (at: number) => number {
  const PCM = 1;
  const FLOAT = 3;
  if (tag === FLOAT && bits === 32) return (at) => view.getFloat32(at, true);
  if (tag === FLOAT && bits === 64) return (at) => view.getFloat64(at, true);
  if (tag === PCM && bits === 8) return (at) => (view.getUint8(at) - 128) / 128;
  if (tag === PCM && bits === 16) return (at) => view.getInt16(at, true) / 32768;
  if (tag === PCM && bits === 24) return (at) => (view.getUint16(at, true) | (view.getInt8(at + 2) << 16)) / 8388608;
  if (tag === PCM && bits === 32) return (at) => view.getInt32(at, true) / 2147483648;
  throw fail(`format ${tag} with ${bits}-bit samples is not supported (PCM 8/16/24/32-bit and float 32/64-bit are)`);
}

/** librosa's `to_mono`: the mean of the channels. */
function toMono({ channelData }: DecodedAudio): Float32Array {
  if (channelData.length === 1) return channelData[0]!;
  const mono = new Float32Array(channelData[0]!.length);
  for (const channel of channelData) channel.forEach((v, i) => (mono[i]! += v / channelData.length));
  return mono;
}

/**
 * librosa's load at 12 kHz and the author's crop: the middle 29.12 s of the resampled signal (of librosa's
 * length ⌈n·12000/rate⌉), zero-padded at the end when shorter. Only those samples are resampled, so a
 * whole song takes as long as a clip.
 */
function middleAt12kHz(samples: Float32Array, rate: number): Float32Array {
  const length = Math.ceil((samples.length * SAMPLE_RATE) / rate);
  const start = Math.max(0, Math.floor((length - N_SAMPLES) / 2));
  // resampy gives ⌊n·ratio⌋ samples, and librosa pads them to its length with zeros.
  const end = Math.min(start + N_SAMPLES, Math.floor((samples.length * SAMPLE_RATE) / rate));
  const out = new Float32Array(N_SAMPLES);
  out.set(rate === SAMPLE_RATE ? samples.subarray(start, end) : resampleRange(samples, rate, SAMPLE_RATE, start, end));
  return out;
}

/** librosa's Slaney mel scale: linear below 1 kHz, logarithmic above. */
function hzToMel(hz: number): number {
  return hz < 1000 ? (3 * hz) / 200 : 15 + Math.log(hz / 1000) / (Math.log(6.4) / 27);
}

function melToHz(mel: number): number {
  return mel < 15 ? (200 * mel) / 3 : 1000 * Math.exp((Math.log(6.4) / 27) * (mel - 15));
}

/** librosa's `filters.mel` (Slaney, area-normalised triangles) from 0 Hz to Nyquist: N_MELS rows of N_FFT/2+1 weights. */
function melFilters(): Float64Array[] {
  const bins = N_FFT / 2 + 1;
  const top = hzToMel(SAMPLE_RATE / 2);
  const edges = Array.from({ length: N_MELS + 2 }, (_, i) => melToHz((top * i) / (N_MELS + 1)));
  return Array.from({ length: N_MELS }, (_, m) => {
    const [low, centre, high] = [edges[m]!, edges[m + 1]!, edges[m + 2]!];
    const norm = 2 / (high - low);
    return Float64Array.from({ length: bins }, (_, k) => {
      const hz = (k * SAMPLE_RATE) / N_FFT;
      return Math.max(0, Math.min((hz - low) / (centre - low), (high - hz) / (high - centre))) * norm;
    });
  });
}

/** Power spectrum of each centred frame (reflect padding, periodic Hann window): N_FRAMES rows of N_FFT/2+1. */
function powerSpectrogram(y: Float32Array): Float64Array[] {
  const pad = N_FFT / 2;
  const reflect = (i: number): number => y[i < 0 ? -i : i >= y.length ? 2 * (y.length - 1) - i : i]!;
  const window = Float64Array.from({ length: N_FFT }, (_, n) => 0.5 - 0.5 * Math.cos((2 * Math.PI * n) / N_FFT));
  const fft = new RealFft(N_FFT);
  const frame = new Float64Array(N_FFT);
  return Array.from({ length: N_FRAMES }, (_, t) => {
    for (let n = 0; n < N_FFT; n++) frame[n] = reflect(t * HOP + n - pad) * window[n]!;
    return fft.power(frame);
  });
}

/** A radix-2 FFT of real frames, returning |X_k|² for k = 0 … n/2. */
class RealFft {
  private readonly cos: Float64Array;
  private readonly sin: Float64Array;
  private readonly reversed: Uint32Array;
  private readonly re: Float64Array;
  private readonly im: Float64Array;

  constructor(private readonly n: number) {
    this.cos = Float64Array.from({ length: n / 2 }, (_, k) => Math.cos((2 * Math.PI * k) / n));
    this.sin = Float64Array.from({ length: n / 2 }, (_, k) => -Math.sin((2 * Math.PI * k) / n));
    const bits = Math.log2(n);
    this.reversed = Uint32Array.from({ length: n }, (_, i) => parseInt(i.toString(2).padStart(bits, '0').split('').reverse().join(''), 2));
    this.re = new Float64Array(n);
    this.im = new Float64Array(n);
  }

  power(frame: Float64Array): Float64Array {
    const { n, re, im } = this;
    for (let i = 0; i < n; i++) {
      re[this.reversed[i]!] = frame[i]!;
      im[i] = 0;
    }
    for (let size = 2; size <= n; size *= 2) {
      const half = size / 2;
      const step = n / size;
      for (let start = 0; start < n; start += size) {
        for (let k = 0; k < half; k++) {
          const [a, b] = [start + k, start + k + half];
          const [wr, wi] = [this.cos[k * step]!, this.sin[k * step]!];
          const tr = re[b]! * wr - im[b]! * wi;
          const ti = re[b]! * wi + im[b]! * wr;
          re[b] = re[a]! - tr;
          im[b] = im[a]! - ti;
          re[a] = re[a]! + tr;
          im[a] = im[a]! + ti;
        }
      }
    }
    return Float64Array.from({ length: n / 2 + 1 }, (_, k) => re[k]! * re[k]! + im[k]! * im[k]!);
  }
}

/**
 * The author's mel-spectrogram values of a 29.12 s clip at 12 kHz, in the model's (96, 1366, 1) order:
 * mel power squared once more, in dB (floor 1e-10, at most 80 dB below the loudest value).
 */
function melgramOf(clip: Float32Array): Float32Array {
  const filters = melFilters();
  const spectra = powerSpectrogram(clip);
  const db = new Float64Array(N_MELS * N_FRAMES);
  for (let m = 0; m < N_MELS; m++) {
    const filter = filters[m]!;
    for (let t = 0; t < N_FRAMES; t++) {
      const spectrum = spectra[t]!;
      let mel = 0;
      for (let k = 0; k < spectrum.length; k++) mel += filter[k]! * spectrum[k]!;
      db[m * N_FRAMES + t] = 10 * Math.log10(Math.max(AMIN, mel * mel));
    }
  }
  const floor = db.reduce((a, b) => Math.max(a, b), -Infinity) - TOP_DB;
  return Float32Array.from(db, (v) => Math.max(v, floor));
}

/**
 * MusicTaggerCRNN's input from an mp3 or wav file, as the author's `compute_melgram`: a (96, 1366, 1)
 * tensor of log mel power (dB) of the clip's middle 29.12 s, resampled to 12 kHz mono.
 */
export async function computeMelgram(source: AudioSource, options: AudioReadOptions = {}): Promise<tf.Tensor3D> {
  const audio = await decodeAudio(source, options);
  const clip = middleAt12kHz(toMono(audio), audio.sampleRate);
  await ensureBackend();
  return tf.tensor3d(melgramOf(clip), [N_MELS, N_FRAMES, 1]);
}
