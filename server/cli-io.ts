// How a command of the `hms` command line talks to its terminal; tests capture it.
export interface CliIo {
  out: (text: string) => void;
  err: (text: string) => void;
  /** Standard input, read whole (`--password-stdin`); the process's own when absent. */
  input?: () => Promise<string>;
}
