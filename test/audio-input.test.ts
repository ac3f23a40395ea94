// Inputs of the wrong kind: an image given to the music tagger, an audio clip given to an image model, and
// broken mp3 files. Each is an ArgumentError naming the file (CLI exit 4), and the decoder prints nothing.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi, type MockInstance } from 'vitest';
import { audioFormat } from '../src/audio/audio-format';
import { decodeAudio } from '../src/audio/melgram';
import { EXIT } from '../src/cli';
import { runCli } from './helpers/cli';
import { ArgumentError } from '../src/errors';
import { AUDIO_DIR, wav } from './music-helpers';

const CAT = 'test/data/images/cat.jpg';
const MP3 = `${AUDIO_DIR}bensound-cute.mp3`;
/** bensound-cute.mp3's ID3v2 tag and the ID3v1 block after it: its first frame starts here. */
const FIRST_FRAME = 5953;


let folder: string;
let consoleError: MockInstance<typeof console.error>;

beforeEach(async () => {
  folder = await mkdtemp(path.join(os.tmpdir(), 'audio-input-'));
  // Never download, never read a real cache.
  vi.stubEnv('KERAS_HOME', folder);
  vi.stubEnv('KERAS_APPLICATIONS_OFFLINE', '1');
  // mpg123-decoder logs its errors with console.error.
  consoleError = vi.spyOn(console, 'error');
});

afterEach(async () => {
  expect(consoleError).not.toHaveBeenCalled();
  consoleError.mockRestore();
  vi.unstubAllEnvs();
  await rm(folder, { recursive: true, force: true });
});

/** A short silent 16-bit mono WAV file. */
function silentWav(): Uint8Array {
  return wav([new Array(100).fill(0)], 8000, 16);
}

describe('the CLI with an input of the wrong kind', () => {
  it('refuses an image given to MusicTaggerCRNN, naming the file and what the model takes', async () => {
    const { code, stdout, stderr } = await runCli('classify', CAT, '--model', 'MusicTaggerCRNN');
    expect(code).toBe(EXIT.input);
    expect(stdout).toBe('');
    expect(stderr).toBe(
      `error: Cannot decode audio '${CAT}': it is a JPEG image. MusicTaggerCRNN takes mp3 or wav clips; images are for the image models\n`,
    );
  });

  it('refuses an mp3 or wav clip given to an image model, saying it takes images', async () => {
    const wav = path.join(folder, 'silence.wav');
    await writeFile(wav, silentWav());
    for (const [clip, kind] of [[MP3, 'MP3'], [wav, 'WAV']]) {
      const { code, stdout, stderr } = await runCli('classify', clip!, '--model', 'MobileNet', '--weights', 'none');
      expect(code, clip).toBe(EXIT.input);
      expect(stdout).toBe('');
      expect(stderr).toMatch(new RegExp(`^error: Cannot decode image '${clip}': it is ${kind} audio\\. Image models take images \\(JPEG, PNG`));
      expect(stderr).toContain('mp3 and wav clips are for MusicTaggerCRNN');
    }
  });
});

describe('decodeAudio with a broken mp3', () => {
  it('refuses a corrupt stream with one error, not the decoder logging each', async () => {
    const bytes = new Uint8Array(await readFile(MP3));
    // Noise over 20 kB in the middle of the stream.
    let seed = 1;
    for (let at = 200_000; at < 220_000; at++) bytes[at] = seed = (seed * 1103515245 + 12345) % 256;
    const error = await decodeAudio(bytes).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ArgumentError);
    expect((error as Error).message).toMatch(/^Cannot decode audio <442858 bytes>: the MPEG stream is corrupt \(\d+ decoder errors, the first "-1 MPG123_ERR" within the first \d+ bytes\)$/);
  });

  it('refuses a file cut before its first whole frame, and decodes one cut later as far as it goes', async () => {
    const bytes = new Uint8Array(await readFile(MP3));
    const cutEarly = path.join(folder, 'cut.mp3');
    await writeFile(cutEarly, bytes.subarray(0, FIRST_FRAME + 200));
    await expect(decodeAudio(cutEarly)).rejects.toThrow(`Cannot decode audio '${cutEarly}': it holds no complete MPEG audio frame (truncated?)`);
    const { sampleRate, channelData } = await decodeAudio(bytes.subarray(0, 100_000));
    expect(sampleRate).toBe(44_100);
    expect(channelData[0]!.length).toBeGreaterThan(100_000);
  });

  it('names a missing file', async () => {
    const missing = path.join(folder, 'missing.mp3');
    await expect(decodeAudio(missing)).rejects.toThrow(new ArgumentError(`Cannot read audio '${missing}': no such file`));
  });
});

describe('audioFormat', () => {
  it('recognises WAV, and mp3 with or without an ID3 tag, by a frame whose next frame follows it', async () => {
    const mp3 = new Uint8Array(await readFile(MP3));
    expect(audioFormat(mp3)).toBe('MP3');
    expect(audioFormat(mp3.subarray(FIRST_FRAME))).toBe('MP3');
    expect(audioFormat(silentWav())).toBe('WAV');
  });

  it('refuses images, zeros, and a lone frame sync not followed by a frame', async () => {
    expect(audioFormat(new Uint8Array(await readFile(CAT)))).toBeUndefined();
    expect(audioFormat(new Uint8Array(1000))).toBeUndefined();
    const loneSync = new Uint8Array(1000);
    loneSync.set([0xff, 0xfb, 0x80, 0xc0]);
    expect(audioFormat(loneSync)).toBeUndefined();
    // Before the tag's end no frame is looked for: a sync inside the tag does not count.
    const tagOnly = new Uint8Array(new Uint8Array(await readFile(MP3)).subarray(0, FIRST_FRAME - 128));
    expect(audioFormat(tagOnly)).toBeUndefined();
  });
});

describe('audio URLs', () => {
  it('are fetched with the download rules: idle timeout, size limit, our error', async () => {
    const http = await import('node:http');
    const bytes = await readFile(MP3);
    const server = http.createServer((req, res) => {
      res.writeHead(200, { 'Content-Length': bytes.byteLength });
      if (req.url === '/stall.mp3') res.write(bytes.subarray(0, 1000));
      else res.end(bytes);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as import('node:net').AddressInfo).port}`;
    try {
      await expect(decodeAudio(`${base}/stall.mp3`, { timeoutMs: 200 })).rejects.toThrow(
        `Could not fetch audio ${base}/stall.mp3: timed out: no data received for 0.2 s (timeoutMs: 200)`,
      );
      await expect(decodeAudio(`${base}/clip.mp3`, { maxBytes: 1000 })).rejects.toThrow(
        `Could not fetch audio ${base}/clip.mp3: the server announced ${bytes.byteLength} bytes, more than maxBytes (1000)`,
      );
      expect((await decodeAudio(`${base}/clip.mp3`)).sampleRate).toBe(44100);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});
