// Helpers shared by the batch and transaction tests: unique identifiers, entries, posting Bundles, and
// finding what a test created by its identifier.
import type { Bundle, BundleEntry, BundleEntryRequest, Patient, Resource } from '@medplum/fhirtypes';
import type { Response } from 'supertest';
import { FHIR_JSON, patient, type TestApp } from './app';

export function entry(
  method: BundleEntryRequest['method'],
  url: string,
  extra: Partial<BundleEntry> = {},
): BundleEntry {
  const { request, ...rest } = extra;
  return { ...rest, request: { method, url, ...request } };
}

export function bundleOf(type: 'batch' | 'transaction', entries: unknown[]): Bundle {
  return { resourceType: 'Bundle', type, entry: entries as BundleEntry[] };
}

export interface BundleTestKit {
  /** A value no other test uses, so searches by identifier see only this test's data. */
  uniqueValue(label: string): string;
  identified(value: string, overrides?: Record<string, unknown>): Patient;
  postBundle(bundle: unknown, headers?: Record<string, string>): Promise<Response>;
  createPatient(value: string, overrides?: Record<string, unknown>): Promise<Patient>;
  /** Every current resource of the type carrying the identifier. */
  findByIdentifier<T extends Resource>(type: string, value: string): Promise<T[]>;
}

export function bundleTestKit(app: () => TestApp, identifierSystem: string): BundleTestKit {
  let sequence = 0;
  const identified = (value: string, overrides: Record<string, unknown> = {}) =>
    patient({ identifier: [{ system: identifierSystem, value }], ...overrides }) as unknown as Patient;
  return {
    uniqueValue: (label) => `${label}-${++sequence}-${Date.now()}`,
    identified,
    postBundle: (bundle, headers = {}) =>
      app()
        .api()
        .post('/fhir')
        .set('Content-Type', FHIR_JSON)
        .set(headers)
        .send(bundle as object),
    createPatient: async (value, overrides = {}) => {
      const res = await app()
        .api()
        .post('/fhir/Patient')
        .set('Content-Type', FHIR_JSON)
        .send(identified(value, overrides));
      expect(res.status).toBe(201);
      return res.body as Patient;
    },
    findByIdentifier: async <T extends Resource>(type: string, value: string) => {
      const res = await app()
        .api()
        .get(`/fhir/${type}`)
        .query({ identifier: `${identifierSystem}|${value}` });
      expect(res.status).toBe(200);
      return ((res.body as Bundle).entry ?? []).map((e) => e.resource as T);
    },
  };
}
