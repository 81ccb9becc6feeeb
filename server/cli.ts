// The `hms` admin command line: `hms serve`, `hms import FILE`, `hms export`, `hms migrate`. Imports go through
// the repository (validated, versioned, indexed) exactly like API writes; a migration copies stores as they are.
import fs from 'node:fs';
import readline from 'node:readline';
import type { Bundle, Resource } from '@medplum/fhirtypes';
import { FhirError } from '../resources/errors';
import { Repository, type RepositoryServices } from '../resources/repository';
import { auditCommand } from './audit-command';
import { backupCommand, restoreCommand } from './backup-command';
import { rekeyCommand } from './rekey-command';
import { hl7Command } from './hl7-command';
import { loadConfig } from './config';
import { main as serve } from './main';
import type { CliIo } from './cli-io';
import { clientCommand, keysCommand, tokenCommand, userCommand } from './auth/cli-commands';
import { migrateCommand } from './migrate-command';
import { exportCommand } from './export-command';
import { withDataKey } from './storage-config';
import { closeServices, openServices } from './services';

const USAGE = `Usage: hms <command>

Commands:
  serve                      start the server (same as npm start)
  import FILE                load resources from NDJSON (.ndjson) or a Bundle (.json); each is validated
  export [--type T] [--output FILE]
                             write every current resource as NDJSON (to stdout by default)
  migrate --from LOCATION --to LOCATION [--batch N]
                             copy every resource with its history to another store and verify the copy;
                             a LOCATION is a SQLite file or a mongodb:// URL; re-run to resume
  audit verify               check the audit log's hash chain; prints the first broken record, exit 1
  hl7 status                 the HL7 channels with their counters, queue depth and oldest waiting message
  hl7 errors [--channel ID]  the HL7 error queue (reprocess, resend and discard through /admin/hl7)
  client add --id ID --type public|symmetric|backend [--redirect-uri URI]... [--jwks FILE|URL]
             [--scope "SCOPES"] [--launch-url URL]
                             register a SMART app or backend client (a symmetric one's secret is shown once)
  client list | client remove --id ID
  user add --username NAME --role ROLE [--practitioner ID | --patient ID] [--password-stdin]
                             create a login (staff get a TOTP enrolment URI, shown once)
  user list | user disable --username NAME | user reset-totp --username NAME
  token --client ID [--scope "SCOPES"]
                             an access token for a registered backend client, for scripts
  keys rotate | keys list    a new signing key (the old one stays published for a day), or the JWKS
  backup DIR                 copy hms.sqlite, auth.sqlite and hl7.sqlite into the new directory DIR while the
                             server runs (consistent, encrypted with HMS_DATA_KEY when set)
  restore DIR                put a backup back (server stopped; the files replaced are kept as .before-restore)
  rekey [--new-key-file FILE | --decrypt]
                             encrypt the data files, change their key (HMS_DATA_KEY -> the new one) or decrypt
                             them (server stopped)

Settings come from the environment (DATA_DIR, ...), as for the server.`;

/** Parallel writes in flight during import, so group commit can batch them. */
const IMPORT_CONCURRENCY = 64;

export type { CliIo };

const STD_IO: CliIo = { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t) };

export async function main(argv: string[], io: CliIo = STD_IO): Promise<number> {
  const [command, ...args] = argv;
  const run = COMMANDS[command ?? ''];
  if (!run) {
    io.err(`${command ? `Unknown command "${command}"\n\n` : ''}${USAGE}\n`);
    return 2;
  }
  return withDataKey(io, () => run(args, io));
}

const COMMANDS: Record<string, (args: string[], io: CliIo) => Promise<number>> = {
  serve: async () => {
    await serve();
    return 0;
  },
  import: async (args, io) => {
    const file = args[0];
    if (!file) {
      io.err('hms import: give a file (.ndjson or a Bundle .json)\n');
      return 2;
    }
    if (!fs.existsSync(file)) {
      io.err(`hms import: no such file: ${file}\n`);
      return 2;
    }
    return withServices({ validating: true }, (services) => importFile(services, file, io));
  },
  export: (args, io) => exportCommand(args, io),
  migrate: (args, io) => migrateCommand(args, io),
  audit: (args, io) => auditCommand(args, io),
  hl7: (args, io) => hl7Command(args, io),
  client: clientCommand,
  user: userCommand,
  token: tokenCommand,
  keys: keysCommand,
  backup: backupCommand,
  restore: restoreCommand,
  rekey: rekeyCommand,
};

/** Opens the store for one command; only a command that writes starts validation workers. */
async function withServices(
  options: { validating: boolean },
  work: (services: RepositoryServices) => Promise<number>,
): Promise<number> {
  const config = loadConfig();
  const services = await openServices(options.validating ? config : { ...config, validationWorkers: 0 });
  try {
    return await work(services);
  } finally {
    await closeServices(services);
  }
}

async function importFile(services: RepositoryServices, file: string, io: CliIo): Promise<number> {
  const repo = new Repository(services, { actor: 'cli' });
  let imported = 0;
  let failed = 0;
  const inFlight = new Set<Promise<void>>();
  const submit = async (resource: unknown, where: string) => {
    const task = importOne(repo, resource).then(
      () => void imported++,
      (error: unknown) => {
        failed++;
        io.err(`${where}: ${describe(error)}\n`);
      },
    );
    inFlight.add(task);
    void task.finally(() => inFlight.delete(task));
    if (inFlight.size >= IMPORT_CONCURRENCY) await Promise.race(inFlight);
  };
  for await (const [resource, where] of readResources(file)) await submit(resource, where);
  await Promise.all(inFlight);
  io.err(`imported ${imported} resources, ${failed} failed\n`);
  return failed > 0 ? 1 : 0;
}

/** A resource with an id keeps it (update-as-create); one without gets a new id. */
async function importOne(repo: Repository, resource: unknown): Promise<void> {
  if (resource instanceof Error) throw resource;
  const r = resource as Resource;
  if (typeof r !== 'object' || r === null || typeof r.resourceType !== 'string') {
    throw new Error('not a FHIR resource (no resourceType)');
  }
  if (r.id) await repo.update(r.resourceType, r.id, r);
  else await repo.create(r.resourceType, r);
}

async function* readResources(file: string): AsyncGenerator<[unknown, string]> {
  if (file.endsWith('.ndjson')) {
    const lines = readline.createInterface({ input: fs.createReadStream(file), crlfDelay: Infinity });
    let number = 0;
    for await (const line of lines) {
      number++;
      if (line.trim() === '') continue;
      yield [parseJson(line), `line ${number}`];
    }
    return;
  }
  const document = parseJson(fs.readFileSync(file, 'utf8')) as Resource;
  if (document?.resourceType !== 'Bundle') {
    yield [document, file];
    return;
  }
  for (const [index, entry] of ((document as Bundle).entry ?? []).entries()) {
    yield [entry.resource, `entry ${index}`];
  }
}

/** Invalid JSON becomes a value importOne rejects, so one bad line is reported and the rest still load. */
function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return new Error('not valid JSON');
  }
}

function describe(error: unknown): string {
  if (error instanceof FhirError) {
    return (error.outcome.issue ?? [])
      .map((i) => `${i.expression?.[0] ? `${i.expression[0]}: ` : ''}${i.diagnostics}`)
      .join('; ');
  }
  return (error as Error).message;
}
