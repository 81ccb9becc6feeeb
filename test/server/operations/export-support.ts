// Helpers of the $export API tests: kick-off with the Bulk Data headers, polling the status URL to the
// manifest, downloading a file as parsed NDJSON, and tokens of other clients and scopes.
import type { Resource } from '@medplum/fhirtypes';
import request from 'supertest';
import { FHIR_JSON, type TestApp } from '../../support/app';

export const BULK_HEADERS = { Accept: FHIR_JSON, Prefer: 'respond-async' };

export interface Manifest {
  transactionTime: string;
  request: string;
  requiresAccessToken: boolean;
  output: { type: string; url: string; count: number }[];
  error: { type: string; url: string; count: number }[];
}

/** A token issued straight by the token store (as the token endpoint would), for `clientId` with `scope`. */
export async function tokenFor(t: TestApp, scope: string, clientId = 'bulk-client', patient?: string) {
  const { token } = await t.auth.tokens.issueAccessToken({ clientId, scope, ...(patient ? { patient } : {}) }, 600_000);
  return token;
}

export function as(t: TestApp, token: string) {
  return {
    get: (path: string) => request(t.app).get(path).set('Authorization', `Bearer ${token}`),
    post: (path: string) => request(t.app).post(path).set('Authorization', `Bearer ${token}`),
    delete: (path: string) => request(t.app).delete(path).set('Authorization', `Bearer ${token}`),
  };
}

export type Caller = ReturnType<typeof as>;

/** The path of an absolute URL on the test server. */
export const pathOf = (url: string) => new URL(url).pathname;

/** Polls the status URL until it is no longer 202 (10 s at most). */
export async function poll(caller: Caller, statusUrl: string) {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const res = await caller.get(pathOf(statusUrl));
    if (res.status !== 202) return res;
    if (Date.now() > deadline) throw new Error(`${statusUrl} still running`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Kicks off, checks the 202, and polls to the manifest (which must be a 200). */
export async function exportAll(
  caller: Caller,
  path: string,
  body?: object,
): Promise<{ manifest: Manifest; status: string }> {
  const kick = body
    ? await caller.post(path).set(BULK_HEADERS).set('Content-Type', FHIR_JSON).send(body)
    : await caller.get(path).set(BULK_HEADERS);
  if (kick.status !== 202) throw new Error(`kick-off answered ${kick.status}: ${JSON.stringify(kick.body)}`);
  const status = kick.headers['content-location'] as string;
  const done = await poll(caller, status);
  if (done.status !== 200) throw new Error(`status answered ${done.status}: ${done.text}`);
  return { manifest: JSON.parse(done.text) as Manifest, status };
}

export async function download(caller: Caller, url: string): Promise<Resource[]> {
  const res = await caller
    .get(pathOf(url))
    .buffer(true)
    .parse((r, callback) => {
      let text = '';
      r.on('data', (chunk: Buffer) => (text += chunk.toString()));
      r.on('end', () => callback(null, text));
    });
  if (res.status !== 200) throw new Error(`${url} answered ${res.status}`);
  expect(res.headers['content-type']).toMatch(/^application\/fhir\+ndjson/);
  return (res.body as string)
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Resource);
}

/** Every resource of the manifest's files, by type. */
export async function downloadAll(caller: Caller, manifest: Manifest): Promise<Record<string, Resource[]>> {
  const byType: Record<string, Resource[]> = {};
  for (const file of manifest.output) (byType[file.type] ??= []).push(...(await download(caller, file.url)));
  return byType;
}
