// The command line in-process: its exit code and what it wrote.
import { main } from '../../src/cli';

/** Runs `keras-applications ...argv` in this process and collects what it writes. */
export async function runCli(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
  });
  return { code, stdout, stderr };
}
