// A CliIo that keeps what a command prints, for tests of the `hms` command line.
import type { CliIo } from '../../server/cli';

export function capture(): CliIo & { stdout: string; stderr: string } {
  const io = {
    stdout: '',
    stderr: '',
    out: (t: string) => void (io.stdout += t),
    err: (t: string) => void (io.stderr += t),
  };
  return io;
}
