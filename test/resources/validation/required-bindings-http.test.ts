// Required bindings over HTTP, on SQLite and on the MongoDB adapter, with validation inline and on a worker thread:
// a create, an update or a transaction carrying a code outside its required value set is a 400 OperationOutcome
// naming the element, and nothing is stored.
import { MongoStore } from '../../../resources/store/mongo/mongo-store';
import { FHIR_JSON, startTestApp, type TestApp } from '../../support/app';
import { MingoDatabase } from '../../support/mingo-database';

const serviceRequest = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  resourceType: 'ServiceRequest',
  status: 'active',
  intent: 'order',
  code: { coding: [{ system: 'http://loinc.org', code: '2345-7' }] },
  subject: { reference: 'Patient/p1' },
  ...extra,
});

const BAD_STATUS = {
  severity: 'error',
  code: 'code-invalid',
  diagnostics: 'The value "bogus" is not in the required value set http://hl7.org/fhir/ValueSet/request-status',
  expression: ['ServiceRequest.status'],
};

describe.each([
  ['SQLite', () => startTestApp()],
  ['SQLite, validating on a worker thread', () => startTestApp({ services: { validationWorkers: 1 } })],
  ['the MongoDB adapter (mingo)', () => startTestApp({ store: new MongoStore(new MingoDatabase()) })],
])('required bindings on %s', (_name, start) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await start();
  });
  afterAll(() => t.close());

  const count = async (query = '') =>
    (await t.api().get(`/fhir/ServiceRequest?_count=0&_total=accurate${query}`)).body.total as number;

  test('a create with a status outside request-status is 400 and stores nothing', async () => {
    const res = await t
      .api()
      .post('/fhir/ServiceRequest')
      .set('Content-Type', FHIR_JSON)
      .send(serviceRequest({ status: 'bogus' }));
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ resourceType: 'OperationOutcome', issue: [BAD_STATUS] });
    expect(await count()).toBe(0);
  });

  test('the same request with a code from the value set is created', async () => {
    const res = await t.api().post('/fhir/ServiceRequest').set('Content-Type', FHIR_JSON).send(serviceRequest());
    expect(res.status).toBe(201);
    expect(await count()).toBe(1);
  });

  test('an update with a bad priority is 400 and leaves the current version as it was', async () => {
    const put = (body: Record<string, unknown>) =>
      t
        .api()
        .put('/fhir/ServiceRequest/sr-1')
        .set('Content-Type', FHIR_JSON)
        .send({ ...body, id: 'sr-1' });
    expect((await put(serviceRequest({ priority: 'urgent' }))).status).toBe(201);
    const res = await put(serviceRequest({ priority: 'whenever' }));
    expect(res.status).toBe(400);
    expect(res.body.issue).toEqual([
      expect.objectContaining({ code: 'code-invalid', expression: ['ServiceRequest.priority'] }),
    ]);
    const current = await t.api().get('/fhir/ServiceRequest/sr-1');
    expect(current.body).toMatchObject({ priority: 'urgent', meta: { versionId: '1' } });
  });

  test('a transaction with one bad entry is refused whole', async () => {
    const before = await count();
    const transaction = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [serviceRequest(), serviceRequest({ status: 'bogus' })].map((resource) => ({
        resource,
        request: { method: 'POST', url: 'ServiceRequest' },
      })),
    };
    const res = await t.api().post('/fhir').set('Content-Type', FHIR_JSON).send(transaction);
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.body)).toContain(
      'not in the required value set http://hl7.org/fhir/ValueSet/request-status',
    );
    expect(await count()).toBe(before);
  });
});
