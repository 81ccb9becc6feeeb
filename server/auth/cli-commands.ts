// `hms client`, `hms user`, `hms token` and `hms keys`: the operators' side of the authorization server. Each
// prints JSON on stdout and exits non-zero with one clear line on bad input; all work while the server runs
// on the same DATA_DIR or MONGODB_URL.
import fs from 'node:fs';
import type { JWK } from 'jose';
import type { CliIo } from '../cli-io';
import { loadConfig } from '../config';
import { authSettings } from '../main';
import { openStore } from '../../resources/store';
import type { ResourceStore } from '../../resources/store/port';
import { publicClient, publicUser } from './admin-api';
import { CLIENT_TYPES, ClientError, type ClientType } from './clients';
import { randomToken } from './crypto';
import { ROLE_NAMES } from './roles';
import { narrowScopes, splitScopes } from './scopes';
import { AuthService } from './service';
import { UserError } from './users';

export type Command = (args: string[], io: CliIo) => Promise<number>;

class UsageError extends Error {}

export const clientCommand: Command = (args, io) =>
  run(io, args[0], {
    add: async (auth) => {
      const type = required(args, '--type') as ClientType;
      if (!CLIENT_TYPES.includes(type)) throw new UsageError(`--type must be ${CLIENT_TYPES.join(', ')}`);
      const jwks = option(args, '--jwks');
      const { client, secret } = await auth.clients.add({
        id: required(args, '--id'),
        type,
        redirectUris: options(args, '--redirect-uri'),
        ...(jwks && /^https?:\/\//.test(jwks) ? { jwksUrl: jwks } : jwks ? { jwks: readJwks(jwks) } : {}),
        scope: option(args, '--scope'),
        launchUrl: option(args, '--launch-url'),
      });
      return { client: publicClient(client), ...(secret ? { secret, note: 'The secret is shown only once.' } : {}) };
    },
    list: async (auth) => (await auth.clients.list()).map(publicClient),
    remove: async (auth) => {
      const id = option(args, '--id') ?? args[1];
      if (!id) throw new UsageError('give the client id: hms client remove --id ID');
      if (!(await auth.clients.remove(id))) throw new UsageError(`no client with id ${id}`);
      return { removed: id };
    },
  });

export const userCommand: Command = (args, io) =>
  run(io, args[0], {
    add: async (auth) => {
      const role = required(args, '--role');
      if (!ROLE_NAMES.includes(role)) throw new UsageError(`--role must be one of ${ROLE_NAMES.join(', ')}`);
      const practitioner = option(args, '--practitioner');
      const patient = option(args, '--patient');
      if (practitioner && patient) throw new UsageError('give --practitioner or --patient, not both');
      const fromStdin = args.includes('--password-stdin');
      const password = fromStdin ? (await (io.input ?? readStdin)()).replace(/\r?\n$/, '') : randomToken(15);
      const { user, totpUri } = await auth.users.add({
        username: required(args, '--username'),
        role,
        fhirUser: practitioner ? `Practitioner/${practitioner}` : patient ? `Patient/${patient}` : undefined,
        password,
      });
      return {
        user: publicUser(user),
        ...(fromStdin ? {} : { password, note: 'The password is shown only once.' }),
        ...(totpUri ? { totpUri, totpNote: 'Scan this into an authenticator app; it is shown only once.' } : {}),
      };
    },
    list: async (auth) => (await auth.users.list()).map(publicUser),
    disable: async (auth) => {
      const username = option(args, '--username') ?? args[1];
      if (!username) throw new UsageError('give the username: hms user disable --username NAME');
      if (!(await auth.users.setDisabled(username, true))) throw new UsageError(`no user named ${username}`);
      return { disabled: username };
    },
    'reset-totp': async (auth) => {
      const username = option(args, '--username') ?? args[1];
      if (!username) throw new UsageError('give the username: hms user reset-totp --username NAME');
      const totpUri = await auth.users.resetTotp(username);
      if (!totpUri) throw new UsageError(`no user named ${username}`);
      return { username, totpUri, totpNote: 'Scan this into an authenticator app; it is shown only once.' };
    },
  });

/** `hms token --client ID --scope SCOPES`: an access token for a registered backend client, for scripts. */
export const tokenCommand: Command = (args, io) =>
  withAuth(io, async (auth) => {
    const client = await auth.clients.get(required(args, '--client'));
    if (!client?.active || client.type !== 'backend')
      throw new UsageError('--client must name a registered backend client');
    const requested = splitScopes(option(args, '--scope') ?? client.scope);
    const allowed = narrowScopes(requested, splitScopes(client.scope));
    if (allowed.length !== requested.length || allowed.length === 0) {
      throw new UsageError(`--scope must be within the client's scopes: ${client.scope}`);
    }
    const scope = allowed.join(' ');
    const { token, record } = await auth.tokens.issueAccessToken({ clientId: client.id, scope }, auth.accessTokenTtlMs);
    return {
      access_token: token,
      token_type: 'Bearer',
      expires_in: Math.floor((record.exp - Date.now()) / 1000),
      scope,
    };
  });

/** `hms keys rotate`: a new signing key; the old one stays published for a day. */
export const keysCommand: Command = (args, io) =>
  run(io, args[0], {
    rotate: async (auth) => ({ kid: await auth.keys.rotate(), jwks: auth.keys.jwks() }),
    list: async (auth) => auth.keys.jwks(),
  });

async function run(
  io: CliIo,
  subcommand: string | undefined,
  table: Record<string, (auth: AuthService) => Promise<unknown>>,
): Promise<number> {
  const handler = table[subcommand ?? ''];
  if (!handler) {
    io.err(`give one of: ${Object.keys(table).join(', ')}\n`);
    return 2;
  }
  return withAuth(io, handler);
}

async function withAuth(io: CliIo, work: (auth: AuthService) => Promise<unknown>): Promise<number> {
  let store: ResourceStore | undefined;
  let auth: AuthService | undefined;
  try {
    const config = loadConfig();
    store = config.mongodbUrl ? await openStore(config) : undefined;
    auth = await AuthService.open(store, authSettings(config));
    io.out(`${JSON.stringify(await work(auth), null, 2)}\n`);
    return 0;
  } catch (error) {
    if (error instanceof UsageError || error instanceof ClientError || error instanceof UserError) {
      io.err(`${error.message}\n`);
      return 2;
    }
    io.err(`${(error as Error).message.split('\n')[0]}\n`);
    return 1;
  } finally {
    await auth?.close();
    await store?.close();
  }
}

function readJwks(file: string): { keys: JWK[] } {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    throw new UsageError(`cannot read the JWKS file ${file}`);
  }
  try {
    const parsed = JSON.parse(text) as { keys?: JWK[] } & JWK;
    return parsed.keys ? { keys: parsed.keys } : { keys: [parsed] };
  } catch {
    throw new UsageError(`${file} is not JSON`);
  }
}

function option(args: string[], name: string): string | undefined {
  const index = args.indexOf(name);
  if (index < 0) return undefined;
  const value = args[index + 1];
  if (value === undefined || value.startsWith('--')) throw new UsageError(`${name} needs a value`);
  return value;
}

function options(args: string[], name: string): string[] {
  return args.flatMap((arg, i) => (arg === name && args[i + 1] !== undefined ? [args[i + 1]] : []));
}

function required(args: string[], name: string): string {
  const value = option(args, name);
  if (value === undefined) throw new UsageError(`${name} is required`);
  return value;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
