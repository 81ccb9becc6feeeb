// `hms export [--since INSTANT] [--type A,B] [--out DIR]`: a system-level bulk export of the configured store
// into NDJSON files in a directory (one type per file, large types split; with --since also Bundle files of
// the deletions since), with the same walk as `$export`, run in this process with the command line's full
// access. Prints one JSON line: the files and counts.
import fs from 'node:fs';
import path from 'node:path';
import { CLI_ACCESS } from '../resources/access';
import { FhirError } from '../resources/errors';
import { storeAccess, type ExportJob } from '../resources/export/export-job';
import { DEFAULT_EXPORT_SETTINGS, runExport } from '../resources/export/exporter';
import { parseExportRequest } from '../resources/export/request';
import { exportTypes } from '../resources/export/scope';
import type { CliIo } from './cli-io';
import { loadConfig } from './config';
import { closeServices, openServices } from './services';

const EXPORT_USAGE = 'Usage: hms export [--since INSTANT] [--type Type1,Type2] [--out DIR]';

const OPTIONS: Record<string, string> = { '--since': '_since', '--type': '_type', '--out': 'out' };

export async function exportCommand(args: string[], io: CliIo): Promise<number> {
  const options = parseOptions(args);
  if (!options) {
    io.err(`${EXPORT_USAGE}\n`);
    return 2;
  }
  const { out = `export-${new Date().toISOString().replace(/[:.]/g, '-')}`, ...query } = options;
  const services = await openServices({ ...loadConfig(), validationWorkers: 0 });
  try {
    const request = parseExportRequest({
      level: 'system',
      method: 'GET',
      query: Object.entries(query),
      lenient: false,
    });
    const job: ExportJob = {
      request,
      types: exportTypes(request, CLI_ACCESS, services.registry),
      requestUrl: `hms export ${args.join(' ')}`.trim(),
      transactionTime: new Date().toISOString(),
      owner: CLI_ACCESS.actor,
      access: storeAccess(CLI_ACCESS),
    };
    fs.mkdirSync(out, { recursive: true });
    const names: string[] = [];
    const done = await runExport(services, {
      job,
      settings: DEFAULT_EXPORT_SETTINGS,
      sink: {
        write: async (part, type, bytes) => {
          names[part] = path.join(out, `${type}.${part}.ndjson`);
          await fs.promises.writeFile(names[part], bytes);
        },
      },
      save: async () => undefined,
      assertActive: () => undefined,
    });
    // With --since, files of Bundles (`deleted`) list the deletions of the type they name.
    const output = done.files.map((f) => ({
      type: f.type,
      file: names[f.part],
      count: f.count,
      ...(f.deleted ? { deleted: f.deleted } : {}),
    }));
    io.out(`${JSON.stringify({ transactionTime: job.transactionTime, exported: done.exported, output })}\n`);
    return 0;
  } catch (error) {
    if (!(error instanceof FhirError)) throw error;
    io.err(`${error.message}\n`);
    return 1;
  } finally {
    await closeServices(services);
  }
}

/** The options as `_since`/`_type`/`out` values; undefined for anything else or an option without a value. */
function parseOptions(args: string[]): Record<string, string> | undefined {
  const options: Record<string, string> = {};
  for (let i = 0; i < args.length; i += 2) {
    const name = OPTIONS[args[i]];
    const value = args[i + 1];
    if (!name || value === undefined) return undefined;
    options[name] = value;
  }
  return options;
}
