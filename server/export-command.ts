// `hms export`: a system-level export of the configured store with the same walk as `$export`, run in this process
// with the command line's full access. Two outputs:
//  - `--out DIR` (or `--since INSTANT`): NDJSON files in a directory (one type per file, large types split; with
//    --since also Bundle files of the deletions since), and one JSON line printed: the files and counts;
//  - otherwise one NDJSON stream, to stdout or `--output FILE`, that `hms import` reads back.
import fs from 'node:fs';
import path from 'node:path';
import { CLI_ACCESS } from '../resources/access';
import { FhirError } from '../resources/errors';
import { isResourceType } from '../resources/definitions';
import { storeAccess, type ExportJob } from '../resources/export/export-job';
import { DEFAULT_EXPORT_SETTINGS, runExport, type ExportCheckpoint } from '../resources/export/exporter';
import type { PartSink } from '../resources/export/parts';
import { parseExportRequest } from '../resources/export/request';
import { exportTypes } from '../resources/export/scope';
import type { RepositoryServices } from '../resources/repository';
import type { CliIo } from './cli-io';
import { loadConfig } from './config';
import { closeServices, openServices } from './services';

const EXPORT_USAGE =
  'Usage: hms export [--type Type1,Type2] [--output FILE]\n       hms export [--since INSTANT] [--type Type1,Type2] [--out DIR]';

const OPTIONS: Record<string, string> = {
  '--since': '_since',
  '--type': '_type',
  '--out': 'out',
  '--output': 'output',
};

export async function exportCommand(args: string[], io: CliIo): Promise<number> {
  const options = parseOptions(args);
  if (!options || (options.output !== undefined && (options.out !== undefined || options._since !== undefined))) {
    io.err(`${EXPORT_USAGE}\n`);
    return 2;
  }
  const unknown = (options._type ?? '').split(',').find((type) => type !== '' && !isResourceType(type));
  if (unknown) {
    io.err(`hms export: unknown resource type ${unknown}\n`);
    return 2;
  }
  const { out, output, ...query } = options;
  const services = await openServices({ ...loadConfig(), validationWorkers: 0 });
  try {
    if (out === undefined && query._since === undefined) return await toStream(services, query, output, io);
    return await toDirectory(services, query, out ?? `export-${new Date().toISOString().replace(/[:.]/g, '-')}`, io);
  } catch (error) {
    if (!(error instanceof FhirError)) throw error;
    io.err(`${error.message}\n`);
    return 1;
  } finally {
    await closeServices(services);
  }
}

async function toDirectory(
  services: RepositoryServices,
  query: Record<string, string>,
  out: string,
  io: CliIo,
): Promise<number> {
  fs.mkdirSync(out, { recursive: true });
  const names: string[] = [];
  const { job, done } = await exportWith(services, query, {
    write: async (part, type, bytes) => {
      names[part] = path.join(out, `${type}.${part}.ndjson`);
      await fs.promises.writeFile(names[part], bytes);
    },
  });
  // With --since, files of Bundles (`deleted`) list the deletions of the type they name.
  const files = done.files.map((f) => ({
    type: f.type,
    file: names[f.part],
    count: f.count,
    ...(f.deleted ? { deleted: f.deleted } : {}),
  }));
  io.out(`${JSON.stringify({ transactionTime: job.transactionTime, exported: done.exported, output: files })}\n`);
  return 0;
}

async function toStream(
  services: RepositoryServices,
  query: Record<string, string>,
  output: string | undefined,
  io: CliIo,
): Promise<number> {
  if (output !== undefined) fs.writeFileSync(output, '');
  const write = (bytes: Buffer) =>
    output !== undefined ? fs.promises.appendFile(output, bytes) : Promise.resolve(io.out(bytes.toString('utf8')));
  const { done } = await exportWith(services, query, { write: (_part, _type, bytes) => write(bytes) });
  io.err(`exported ${done.exported} resources\n`);
  return 0;
}

async function exportWith(
  services: RepositoryServices,
  query: Record<string, string>,
  sink: PartSink,
): Promise<{ job: ExportJob; done: ExportCheckpoint }> {
  const request = parseExportRequest({ level: 'system', method: 'GET', query: Object.entries(query), lenient: false });
  const job: ExportJob = {
    request,
    types: exportTypes(request, CLI_ACCESS, services.registry),
    requestUrl: `hms export ${Object.entries(query)
      .map(([name, value]) => `${name}=${value}`)
      .join('&')}`.trim(),
    transactionTime: new Date().toISOString(),
    owner: CLI_ACCESS.actor,
    access: storeAccess(CLI_ACCESS),
  };
  const done = await runExport(services, {
    job,
    settings: DEFAULT_EXPORT_SETTINGS,
    sink,
    save: async () => undefined,
    assertActive: () => undefined,
  });
  return { job, done };
}

/** The options as `_since`/`_type`/`out`/`output` values; undefined for anything else or an option without a value. */
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
