// The operators' commands: `hms client`, `hms user`, `hms token`, `hms keys`, each printing JSON and failing
// with one clear line on bad input, against the same DATA_DIR a server uses.
import fs from 'node:fs';
import path from 'node:path';
import { main } from '../../../server/cli';
import { tempDir } from '../../support/app';
import { capture } from '../../support/cli-io';
import { backendKey } from '../../support/tokens';

let dataDir: string;
beforeEach(() => {
  dataDir = tempDir('hms-auth-cli-');
  process.env.DATA_DIR = dataDir;
});
afterEach(() => {
  delete process.env.DATA_DIR;
  fs.rmSync(dataDir, { recursive: true, force: true });
});

async function hms(args: string[], input?: string) {
  const io = capture();
  if (input !== undefined) io.input = async () => input;
  const code = await main(args, io);
  return { code, out: io.stdout, err: io.stderr, json: () => JSON.parse(io.stdout) };
}

test('client add, list and remove; a symmetric secret is printed once and never listed', async () => {
  const added = await hms([
    'client',
    'add',
    '--id',
    'chart-app',
    '--type',
    'symmetric',
    '--redirect-uri',
    'https://app.example/cb',
    '--redirect-uri',
    'https://app.example/cb2',
    '--launch-url',
    'https://app.example/launch',
  ]);
  expect(added.code).toBe(0);
  const body = added.json();
  expect(body.client).toMatchObject({
    id: 'chart-app',
    type: 'symmetric',
    redirectUris: ['https://app.example/cb', 'https://app.example/cb2'],
  });
  expect(body.secret).toMatch(/^[A-Za-z0-9_-]{40,}$/);
  expect(body.client.secretHash).toBeUndefined();
  const listed = await hms(['client', 'list']);
  expect(listed.json().map((c: { id: string }) => c.id)).toEqual(['chart-app']);
  expect(listed.out).not.toContain(body.secret);
  expect(listed.out).not.toContain('secretHash');
  expect((await hms(['client', 'remove', '--id', 'chart-app'])).code).toBe(0);
  expect((await hms(['client', 'list'])).json()).toEqual([]);
});

test('client add refuses bad input with one line and exit 2', async () => {
  const cases: [string[], RegExp][] = [
    [['client', 'add', '--id', 'x', '--type', 'nope'], /--type must be/],
    [['client', 'add', '--id', 'x', '--type', 'public'], /redirect-uri/],
    [['client', 'add', '--id', 'x', '--type', 'public', '--redirect-uri', 'http://app.example/cb'], /https/],
    [['client', 'add', '--id', 'x', '--type', 'backend', '--jwks', 'http://keys.example/jwks'], /https/],
    [['client', 'add', '--id', 'x', '--type', 'backend', '--jwks', '/no/such/file'], /cannot read/],
    [['client', 'add', '--type', 'public'], /--id is required/],
    [
      [
        'client',
        'add',
        '--id',
        'x',
        '--type',
        'public',
        '--redirect-uri',
        'https://a.example/cb',
        '--scope',
        'patient/*.read bogus',
      ],
      /Unknown scopes: bogus/,
    ],
    [['client', 'remove', '--id', 'nobody'], /no client/],
    [['client'], /give one of: add, list, remove/],
  ];
  for (const [args, message] of cases) {
    const result = await hms(args);
    expect({ args, code: result.code }).toEqual({ args, code: 2 });
    expect(result.err).toMatch(message);
    expect(result.err.trim().split('\n')).toHaveLength(1);
  }
});

test('a backend client from a JWKS file gets tokens from `hms token` within its scopes', async () => {
  const key = await backendKey();
  const file = path.join(dataDir, 'jwks.json');
  fs.writeFileSync(file, JSON.stringify({ keys: [key.publicJwk] }));
  expect(
    (
      await hms([
        'client',
        'add',
        '--id',
        'lab-engine',
        '--type',
        'backend',
        '--jwks',
        file,
        '--scope',
        'system/Observation.cruds system/Patient.rs',
      ])
    ).code,
  ).toBe(0);
  const issued = await hms(['token', '--client', 'lab-engine', '--scope', 'system/Observation.rs']);
  expect(issued.code).toBe(0);
  expect(issued.json()).toMatchObject({ token_type: 'Bearer', scope: 'system/Observation.rs' });
  expect(issued.json().expires_in).toBeGreaterThan(500);
  const wider = await hms(['token', '--client', 'lab-engine', '--scope', 'system/Condition.rs']);
  expect(wider.code).toBe(2);
  expect(wider.err).toMatch(/within the client's scopes/);
  expect((await hms(['token', '--client', 'nobody'])).code).toBe(2);
});

test('user add with a password on stdin; staff get a TOTP URI once; list, disable, reset-totp', async () => {
  const added = await hms(
    ['user', 'add', '--username', 'dr.jones', '--role', 'clinician', '--practitioner', 'p-7', '--password-stdin'],
    'correct horse battery\n',
  );
  expect(added.code).toBe(0);
  expect(added.json().user).toMatchObject({
    username: 'dr.jones',
    role: 'clinician',
    fhirUser: 'Practitioner/p-7',
    secondFactor: ['totp'],
  });
  expect(added.json().totpUri).toMatch(/^otpauth:\/\/totp\/HMS:dr\.jones\?secret=[A-Z2-7]+/);
  expect(added.out).not.toContain('correct horse battery');
  const generated = await hms(['user', 'add', '--username', 'pat', '--role', 'patient', '--patient', 'p1']);
  expect(generated.json().password.length).toBeGreaterThanOrEqual(20);
  expect(generated.json().totpUri).toBeUndefined();
  const listed = await hms(['user', 'list']);
  expect(listed.json().map((u: { username: string }) => u.username)).toEqual(['dr.jones', 'pat']);
  expect(listed.out).not.toMatch(/scrypt|sealed|secret=/);
  expect((await hms(['user', 'disable', '--username', 'pat'])).json()).toEqual({ disabled: 'pat' });
  expect((await hms(['user', 'list'])).json()[1].disabled).toBe(true);
  const reset = await hms(['user', 'reset-totp', '--username', 'dr.jones']);
  expect(reset.json().totpUri).not.toBe(added.json().totpUri);
});

test('user add refuses bad input with one line', async () => {
  const cases: [string[], RegExp, string?][] = [
    [['user', 'add', '--username', 'x', '--role', 'wizard'], /--role must be one of/],
    [['user', 'add', '--username', 'x', '--role', 'nurse', '--password-stdin'], /at least 12 characters/, 'short\n'],
    [['user', 'add', '--username', 'bad name', '--role', 'nurse'], /username/],
    [['user', 'add', '--username', 'x', '--role', 'nurse', '--practitioner', 'a', '--patient', 'b'], /not both/],
    [['user', 'disable', '--username', 'ghost'], /no user/],
  ];
  for (const [args, message, input] of cases) {
    const result = await hms(args, input);
    expect({ args, code: result.code }).toEqual({ args, code: 2 });
    expect(result.err).toMatch(message);
  }
  await hms(['user', 'add', '--username', 'twice', '--role', 'nurse']);
  expect((await hms(['user', 'add', '--username', 'twice', '--role', 'nurse'])).err).toMatch(/exists/);
});

test('keys rotate publishes the new key beside the old one', async () => {
  const before = (await hms(['keys', 'list'])).json().keys;
  expect(before).toHaveLength(1);
  const rotated = await hms(['keys', 'rotate']);
  expect(rotated.code).toBe(0);
  const after = rotated.json().jwks.keys.map((k: { kid: string }) => k.kid);
  expect(after).toHaveLength(2);
  expect(after).toContain(before[0].kid);
  expect(after).toContain(rotated.json().kid);
});
