// `hms audit verify`: walks the configured store's audit log in chain order and checks every link, printing
// one JSON line; exit 0 when the chain is whole, 1 with the first broken record, 2 on a usage error.
import { verifyChain } from '../resources/audit/chain';
import { openStore } from '../resources/store';
import type { CliIo } from './cli-io';
import { loadConfig } from './config';

const AUDIT_USAGE = 'Usage: hms audit verify';

export async function auditCommand(args: string[], io: CliIo): Promise<number> {
  if (args.length !== 1 || args[0] !== 'verify') {
    io.err(`${AUDIT_USAGE}\n`);
    return 2;
  }
  // The walk reads the log in seq order on the store's own connection: no search workers needed.
  const store = await openStore({ ...loadConfig(), searchWorkers: 0 });
  try {
    const { checked, broken } = await verifyChain(store.auditRecords());
    io.out(`${JSON.stringify(broken ? { checked, ok: false, broken } : { checked, ok: true })}\n`);
    return broken ? 1 : 0;
  } finally {
    await store.close();
  }
}
