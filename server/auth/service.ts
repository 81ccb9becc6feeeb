// The authorization server's state and its URLs, opened once per process (server or CLI) over the configured
// store: auth records, the secret box, signing keys, clients, users and tokens.
import fs from 'node:fs';
import path from 'node:path';
import type { ResourceStore } from '../../resources/store/port';
import { ClientRegistry } from './clients';
import { SecretBox, randomToken } from './crypto';
import { authBaseUrl } from './discovery';
import { SigningKeys } from './keys';
import { openAuthRecords } from './records';
import type { AuthRecords } from './records/port';
import { SessionStore } from './sessions';
import { TokenStore } from './tokens';
import { UserDirectory } from './users';

export interface AuthSettings {
  /** Public base URL of the FHIR API: the `aud` of every token and the OpenID issuer. */
  baseUrl: string;
  dataDir: string;
  /** HMS_SECRET; absent on loopback, where a secret is created in DATA_DIR on first start. */
  secret?: string;
  accessTokenMinutes: number;
  sessionIdleMinutes: number;
  /** Origins allowed to call the API from a browser, besides those of registered redirect URIs. */
  corsOrigins: string[];
}

export const LOCAL_SECRET_FILE = 'hms-secret';

export class AuthService {
  readonly keys: SigningKeys;
  readonly clients: ClientRegistry;
  readonly users: UserDirectory;
  readonly tokens: TokenStore;
  readonly sessions: SessionStore;
  /** Where the authorization server's endpoints live: beside /fhir, under /auth. */
  readonly authBase: string;

  private constructor(
    readonly records: AuthRecords,
    readonly box: SecretBox,
    readonly settings: AuthSettings,
  ) {
    this.keys = new SigningKeys(records, box);
    this.clients = new ClientRegistry(records);
    this.users = new UserDirectory(records, box);
    this.tokens = new TokenStore(records);
    this.sessions = new SessionStore(records, settings.sessionIdleMinutes * 60_000);
    this.authBase = authBaseUrl(settings.baseUrl);
  }

  static async open(store: ResourceStore | undefined, settings: AuthSettings): Promise<AuthService> {
    const secret = settings.secret ?? localSecret(settings.dataDir);
    const records = openAuthRecords(store, settings.dataDir);
    const service = new AuthService(records, new SecretBox(secret), settings);
    try {
      await service.keys.load();
      await records.purgeExpired();
    } catch (error) {
      await records.close();
      throw error;
    }
    return service;
  }

  get issuer(): string {
    return this.settings.baseUrl;
  }

  get tokenUrl(): string {
    return `${this.authBase}/token`;
  }

  get accessTokenTtlMs(): number {
    return this.settings.accessTokenMinutes * 60_000;
  }

  async close(): Promise<void> {
    await this.records.close();
  }
}

/** The secret of a server on loopback without HMS_SECRET: made once, readable by the owner only. */
function localSecret(dataDir: string): string {
  const file = path.join(dataDir, LOCAL_SECRET_FILE);
  fs.mkdirSync(dataDir, { recursive: true });
  try {
    fs.writeFileSync(file, randomToken(32), { flag: 'wx', mode: 0o600 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  return fs.readFileSync(file, 'utf8').trim();
}
