// The HMS stock record (profiles/hms-stock.json): a Basic shaped like R5 InventoryItem with its extensions and
// search parameters, loaded at start. Checked through the real validator and the real server's search.
import type { Basic, Bundle, Extension } from '@medplum/fhirtypes';
import { readProfileResources } from '../../profiles/loader';
import { hasErrors, validateResource, warmUpValidation } from '../../resources/validation';
import { startTestApp, type TestApp } from '../support/app';

const SD = 'http://hms.local/fhir/StructureDefinition/';
const PROFILE = `${SD}hms-stock-item`;

const ext = (code: string, value: Omit<Extension, 'url'>): Extension => ({ url: `${SD}${code}`, ...value });

function stockRecord(location: string, extra: Extension[] = []): Basic {
  return {
    resourceType: 'Basic',
    meta: { profile: [PROFILE] },
    code: { coding: [{ system: 'http://hms.local/fhir/CodeSystem/basic-kind', code: 'stock-item' }] },
    extension: [
      ext('stock-item', { valueReference: { reference: 'Medication/amoxicillin-500' } }),
      ext('stock-location', { valueReference: { reference: location } }),
      ext('stock-lot', { valueString: 'LOT-42' }),
      ext('stock-expiry', { valueDate: '2027-03-31' }),
      ext('stock-on-hand', {
        valueQuantity: { value: 40, unit: 'capsule', system: 'http://unitsofmeasure.org', code: '{capsule}' },
      }),
      ...extra,
    ],
  };
}

beforeAll(() => warmUpValidation());

test('profiles/ ships the stock profile, its extensions and search parameters', () => {
  const byType = (type: string) => readProfileResources().filter((r) => r.resourceType === type);
  expect(byType('StructureDefinition').map((r) => (r as { id: string }).id)).toEqual(
    expect.arrayContaining([
      'hms-stock-item',
      'stock-item',
      'stock-location',
      'stock-on-hand',
      'stock-adjustment-reason',
    ]),
  );
  expect(byType('SearchParameter').map((r) => (r as { code: string }).code)).toEqual(
    expect.arrayContaining(['stock-item', 'stock-location', 'stock-lot', 'stock-expiry', 'stock-on-hand']),
  );
});

describe('validation against hms-stock-item', () => {
  test('a complete stock record is valid', () => {
    expect(validateResource(stockRecord('Location/main-store')).filter((i) => i.severity === 'error')).toEqual([]);
  });

  test('a record without its quantity on hand is refused', () => {
    const record = stockRecord('Location/main-store');
    record.extension = record.extension?.filter((e) => !e.url.endsWith('stock-on-hand'));
    expect(hasErrors(validateResource(record))).toBe(true);
  });

  test('a record of another kind (Basic.code) is refused', () => {
    const record = { ...stockRecord('Location/main-store'), code: { coding: [{ system: 'urn:x', code: 'other' }] } };
    expect(hasErrors(validateResource(record))).toBe(true);
  });
});

describe('searching stock records on the real server', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
    for (const location of ['Location/main-store', 'Location/ward-3']) {
      const res = await app
        .api()
        .post('/fhir/Basic')
        .set('content-type', 'application/fhir+json')
        .send(stockRecord(location));
      expect(res.status).toBe(201);
    }
  });
  afterAll(() => app.close());

  const search = async (query: string) => {
    const res = await app.api().get(`/fhir/Basic?${query}`);
    expect(res.status).toBe(200);
    return (res.body as Bundle).entry ?? [];
  };

  test('by location, item, lot, expiry and quantity on hand', async () => {
    expect(await search('stock-location=Location/ward-3')).toHaveLength(1);
    expect(await search('stock-item=Medication/amoxicillin-500')).toHaveLength(2);
    expect(await search('stock-lot=LOT-42&stock-location=Location/main-store')).toHaveLength(1);
    expect(await search('stock-expiry=lt2027-06-01')).toHaveLength(2);
    expect(await search('stock-expiry=gt2027-06-01')).toHaveLength(0);
    expect(await search('stock-on-hand=lt50')).toHaveLength(2);
    expect(await search('stock-on-hand=gt50')).toHaveLength(0);
  });
});
