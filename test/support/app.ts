// Test harness: the real app on a real SQLite file in a fresh temporary directory, driven by supertest.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import type { RequestListener } from 'node:http';
import { createRequestListener } from '../../server/app';
import { createLogger } from '../../server/log';
import { closeServices, openServices, type ServiceSettings } from '../../server/services';
import type { RepositoryServices } from '../../resources/repository';
import type { ResourceStore } from '../../resources/store/port';
import { AuthService } from '../../server/auth/service';
import { SYSTEM_SCOPE, authSettingsFor, backendKey, backendToken, registerBackendClient } from './tokens';

export { SYSTEM_SCOPE };

export const BASE_URL = 'http://localhost:8080/fhir';

export interface TestApp {
  /** The server's request listener: the read fast path in front of the Express app. */
  app: RequestListener;
  services: RepositoryServices;
  auth: AuthService;
  dataDir: string;
  /** Requests with a full-access system token (client_credentials through the real token endpoint). */
  api: () => ReturnType<typeof request.agent>;
  /** That token. */
  token: string;
  /** Requests without any credentials. */
  anonymous: () => ReturnType<typeof request>;
  close: () => Promise<void>;
}

export function tempDir(prefix = 'hms-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export async function startTestApp(
  options: {
    maxBodyBytes?: number;
    searchWorkers?: number;
    searchTimeoutMs?: number;
    store?: ResourceStore;
    /** For a test that serves the app on a real port (browser tests): its public FHIR base URL. */
    baseUrl?: string;
    /** More service settings (job timings, subscription delivery, ...). */
    services?: Partial<ServiceSettings>;
  } = {},
): Promise<TestApp> {
  const baseUrl = options.baseUrl ?? BASE_URL;
  const dataDir = tempDir();
  const { searchWorkers, searchTimeoutMs, store } = options;
  const services = await openServices({
    dataDir,
    sqliteSynchronous: 'NORMAL',
    searchWorkers,
    searchTimeoutMs,
    store,
    baseUrl,
    ...options.services,
  });
  const auth = await AuthService.open(services.store, authSettingsFor(dataDir, baseUrl));
  const app = createRequestListener({
    services,
    baseUrl,
    maxBodyBytes: options.maxBodyBytes ?? 16 * 1024 * 1024,
    logger: createLogger('silent'),
    auth,
  });
  const token = await systemToken(app, auth);
  return {
    app,
    services,
    auth,
    dataDir,
    api: () => request.agent(app).set('Authorization', `Bearer ${token}`),
    token,
    anonymous: () => request(app),
    close: async () => {
      await auth.close();
      await closeServices(services);
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export const FHIR_JSON = 'application/fhir+json';

export function patient(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    resourceType: 'Patient',
    name: [{ family: 'Smith', given: ['Anna'] }],
    gender: 'female',
    birthDate: '1980-02-03',
    identifier: [{ system: 'urn:oid:1.2.36.146.595.217.0.1', value: '12345' }],
    ...overrides,
  };
}

export function observation(subject: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    resourceType: 'Observation',
    status: 'final',
    code: { coding: [{ system: 'http://loinc.org', code: '8867-4', display: 'Heart rate' }] },
    subject: { reference: subject },
    effectiveDateTime: '2026-01-02T10:00:00Z',
    valueQuantity: { value: 72, unit: 'beats/minute', system: 'http://unitsofmeasure.org', code: '/min' },
    ...overrides,
  };
}

/** A custom string SearchParameter on Patient: the given names of `use = nickname` names. */
export function nicknameSearchParameter(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    resourceType: 'SearchParameter',
    url: 'http://example.org/fhir/SearchParameter/patient-nickname',
    name: 'nickname',
    status: 'active',
    description: 'A nickname of the patient',
    code: 'nickname',
    base: ['Patient'],
    type: 'string',
    expression: "Patient.name.where(use='nickname').given",
    ...overrides,
  };
}

/** Writes the resource with its own id through the API (PUT, expecting 200 or 201). */
export async function putThroughApi(t: TestApp, resource: Record<string, unknown>): Promise<void> {
  const res = await t
    .api()
    .put(`/fhir/${String(resource.resourceType)}/${String(resource.id)}`)
    .set('Content-Type', FHIR_JSON)
    .send(resource);
  expect([200, 201]).toContain(res.status);
}

/** Creates the resource through the API (expecting 201) and returns its id. */
export async function createThroughApi(t: TestApp, resource: Record<string, unknown>): Promise<string> {
  const res = await t
    .api()
    .post(`/fhir/${resource.resourceType as string}`)
    .set('Content-Type', FHIR_JSON)
    .send(resource);
  expect(res.status).toBe(201);
  return res.body.id as string;
}

export const testAuthSettings = (dataDir: string) => authSettingsFor(dataDir, BASE_URL);

export async function systemToken(app: RequestListener, auth: AuthService): Promise<string> {
  const key = await backendKey();
  await registerBackendClient(auth, 'test-system', key, SYSTEM_SCOPE);
  return backendToken(app, auth, 'test-system', key, SYSTEM_SCOPE);
}
