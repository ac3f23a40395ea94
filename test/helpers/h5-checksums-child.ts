// Reads each file listed (a JSON array in the file named by H5_CHECKSUMS_FILES) with the weights reader and prints
// one JSON line per file: null when it loads, else what it threw. Run by test/h5-checksums.test.ts in a child
// process: jsfive is synchronous, so only a separate process can be stopped when a file makes it hang.
import { readFileSync, writeSync } from 'node:fs';
import { readWeights } from '../../src/weights/h5';

export interface ReaderVerdict {
  errorClass: string;
  message: string;
}

const list = process.env.H5_CHECKSUMS_FILES;
if (list) {
  // jsfive warns about attribute types it cannot decode; the lines would only hide the verdicts.
  console.warn = () => {};
  for (const path of JSON.parse(readFileSync(list, 'utf8')) as string[]) {
    let verdict: ReaderVerdict | null = null;
    try {
      readWeights(readFileSync(path), path);
    } catch (err) {
      verdict = err instanceof Error ? { errorClass: err.constructor.name, message: err.message } : { errorClass: typeof err, message: String(err) };
    }
    writeSync(1, `${JSON.stringify(verdict)}\n`);
  }
}
