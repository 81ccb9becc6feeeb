// Canonical URLs with versions (R4 search.html#uri and #versions): `url=[url]|[version]` on the canonical
// resources, canonical references with and without `|version`, and `:below` on URLs and on versions.
import { putThroughApi, startTestApp, type TestApp } from '../../support/app';

let t: TestApp;

const INTAKE = 'http://acme.org/fhir/Questionnaire/intake';
const OTHER = 'http://other.org/Questionnaire/intake';

beforeAll(async () => {
  t = await startTestApp();
  const questionnaire = (id: string, url: string, version?: string) =>
    putThroughApi(t, { resourceType: 'Questionnaire', id, status: 'active', url, ...(version ? { version } : {}) });
  await questionnaire('q-10', INTAKE, '1.0');
  await questionnaire('q-11', INTAKE, '1.1');
  await questionnaire('q-20', INTAKE, '2.0');
  await questionnaire('q-100', INTAKE, '10.0');
  await questionnaire('q-none', INTAKE);
  await questionnaire('q-other', OTHER, '1.0');
  const valueSet = (id: string, url: string) =>
    putThroughApi(t, { resourceType: 'ValueSet', id, status: 'active', url });
  await valueSet('vs-a', 'http://acme.org/fhir/ValueSet/123');
  await valueSet('vs-b', 'http://acme.org/fhir/ValueSet/456');
  await valueSet('vs-c', 'http://example.com/fhir/ValueSet/789');
  const response = (id: string, canonical: string) =>
    putThroughApi(t, { resourceType: 'QuestionnaireResponse', id, status: 'completed', questionnaire: canonical });
  await response('qr-10', `${INTAKE}|1.0`);
  await response('qr-11', `${INTAKE}|1.1`);
  await response('qr-20', `${INTAKE}|2.0`);
  await response('qr-none', INTAKE);
  await response('qr-other', `${OTHER}|1.0`);
});
afterAll(() => t.close());

type Bundle = { entry?: { resource: { id: string }; search: { mode: string } }[] };

const found = async (query: string) => {
  const res = await t.api().get(`/fhir/${query}`).set('Prefer', 'handling=strict');
  expect(res.status).toBe(200);
  return ((res.body as Bundle).entry ?? [])
    .filter((e) => e.search.mode === 'match')
    .map((e) => e.resource.id)
    .sort();
};

describe('url with |version on canonical resources', () => {
  test('the version part is a search on the business version', async () => {
    expect(await found(`Questionnaire?url=${INTAKE}|2.0`)).toEqual(['q-20']);
    expect(await found(`Questionnaire?url=${INTAKE}|1.0,${INTAKE}|2.0`)).toEqual(['q-10', 'q-20']);
    expect(await found(`Questionnaire?url=${INTAKE}|3.0`)).toEqual([]);
    expect(await found(`Questionnaire?url=${OTHER}|1.0`)).toEqual(['q-other']);
  });

  test('without a version every version matches', async () => {
    expect(await found(`Questionnaire?url=${INTAKE}`)).toEqual(['q-10', 'q-100', 'q-11', 'q-20', 'q-none']);
  });

  test(':below on a version matches it and its sub-versions, not a longer number', async () => {
    expect(await found(`Questionnaire?url:below=${INTAKE}|1`)).toEqual(['q-10', 'q-11']);
    expect(await found(`Questionnaire?url:below=${INTAKE}|1.1`)).toEqual(['q-11']);
  });

  test(':below and :above on the URL (the spec examples)', async () => {
    expect(await found('ValueSet?url:below=http://acme.org/fhir/')).toEqual(['vs-a', 'vs-b']);
    expect(await found('ValueSet?url:above=http://acme.org/fhir/ValueSet/123/_history/5')).toEqual(['vs-a']);
    expect(await found('ValueSet?url=http://acme.org/fhir/ValueSet/123')).toEqual(['vs-a']);
    expect(await found(`Questionnaire?url:below=${INTAKE}`)).toEqual(['q-10', 'q-100', 'q-11', 'q-20', 'q-none']);
  });
});

describe('reference parameters on canonical elements', () => {
  test('a |version matches that version only; no version matches every one', async () => {
    expect(await found(`QuestionnaireResponse?questionnaire=${INTAKE}|1.0`)).toEqual(['qr-10']);
    expect(await found(`QuestionnaireResponse?questionnaire=${INTAKE}|3`)).toEqual([]);
    expect(await found(`QuestionnaireResponse?questionnaire=${INTAKE}`)).toEqual([
      'qr-10',
      'qr-11',
      'qr-20',
      'qr-none',
    ]);
  });

  test(':below selects versions (R4 search.html#versions)', async () => {
    expect(await found(`QuestionnaireResponse?questionnaire:below=${INTAKE}|1`)).toEqual(['qr-10', 'qr-11']);
    expect(await found(`QuestionnaireResponse?questionnaire:below=${INTAKE}`)).toEqual([
      'qr-10',
      'qr-11',
      'qr-20',
      'qr-none',
    ]);
    expect(await found(`QuestionnaireResponse?questionnaire:below=${OTHER}|1.0,${INTAKE}|2`)).toEqual([
      'qr-20',
      'qr-other',
    ]);
  });

  test(':below needs a canonical URL', async () => {
    const res = await t.api().get('/fhir/QuestionnaireResponse?questionnaire:below=Questionnaire/q-10');
    expect(res.status).toBe(400);
    expect(res.body.issue[0].diagnostics).toMatch(/:below takes a canonical URL/);
  });
});
