// Shared pieces of the mapping tests: the entries of a mapped Bundle, the MappingError a mapping throws, the
// mapping context a channel would give a message, and the real FHIR server the mapped Bundles are posted to.
import type { Bundle, BundleEntry } from '@medplum/fhirtypes';
import type { MappingContext } from '../../../../integrations/hl7v2/mappings/context';
import { MappingError } from '../../../../integrations/hl7v2/mappings/types';
import type { V2Message } from '../../../../integrations/hl7v2/message/v2-message';
import { FHIR_JSON, startTestApp, type TestApp } from '../../../support/app';
import { testMappingContext } from '../../../support/hl7';

/** The Bundle's entries whose resource is of this type. */
export const entriesOf = (bundle: Bundle, type: string): BundleEntry[] =>
  (bundle.entry ?? []).filter((e) => e.resource?.resourceType === type);

/** The MappingError that run throws; fails the test when it throws anything else or nothing. */
export const mappingError = (run: () => unknown): MappingError => {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(MappingError);
    return error as MappingError;
  }
  throw new Error('expected a MappingError');
};

/** The channel's sender is MSH-4 (MSH-3 when empty), as the bridge sets it. */
export const contextOf = (message: V2Message): MappingContext =>
  testMappingContext({ sender: message.header.sendingFacility || message.header.sendingApplication });

/** The test app of a test file and the FHIR calls the server tests make on it. */
export interface FhirServer {
  /** The running app (set before the file's tests run). */
  readonly app: TestApp;
  /** POSTs a transaction Bundle; throws unless the server answers 200. */
  post: (bundle: Bundle) => Promise<Bundle>;
  /** GET /fhir/<query>, expecting 200. */
  search: (query: string) => Promise<Bundle>;
  /** How many resources of this type the server holds. */
  total: (type: string) => Promise<number | undefined>;
}

/** Starts the test app before the file's tests and closes it after them. */
export function useFhirServer(): FhirServer {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(async () => {
    await app.close();
  });

  async function post(bundle: Bundle): Promise<Bundle> {
    const res = await app.api().post('/fhir').set('Content-Type', FHIR_JSON).send(bundle);
    if (res.status !== 200) throw new Error(`POST /fhir ${res.status}: ${JSON.stringify(res.body)}`);
    return res.body as Bundle;
  }

  async function search(query: string): Promise<Bundle> {
    const res = await app.api().get(`/fhir/${query}`);
    expect(res.status).toBe(200);
    return res.body as Bundle;
  }

  const total = async (type: string) => (await search(`${type}?_summary=count`)).total;

  return {
    get app() {
      return app;
    },
    post,
    search,
    total,
  };
}
