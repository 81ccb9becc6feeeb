// Chained (`subject:Patient.name`) and reverse-chained (`_has:Observation:patient:code`) search over real linked
// resources: exact result sets, ambiguity and depth limits, strict handling of what cannot be applied.
import { observation, patient, startTestApp, type TestApp, putThroughApi } from '../../support/app';

let t: TestApp;

const put = (resource: Record<string, unknown>) => putThroughApi(t, resource);

beforeAll(async () => {
  t = await startTestApp();
  await put({ resourceType: 'Organization', id: 'acme', name: 'Acme Clinic' });
  await put({ resourceType: 'Practitioner', id: 'jones', name: [{ family: 'Jones', given: ['Sam'] }] });
  await put({ resourceType: 'Practitioner', id: 'lee', name: [{ family: 'Lee' }] });
  await put({ resourceType: 'Location', id: 'ward', name: 'Smith Ward' });
  await put(
    patient({
      id: 'smith',
      generalPractitioner: [{ reference: 'Practitioner/jones' }],
      managingOrganization: { reference: 'Organization/acme' },
    }),
  );
  await put(
    patient({
      id: 'brown',
      name: [{ family: 'Brown' }],
      generalPractitioner: [{ reference: 'Practitioner/lee' }],
    }),
  );
  await put({
    resourceType: 'Encounter',
    id: 'e1',
    status: 'finished',
    class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
    subject: { reference: 'Patient/smith' },
  });
  await put({ ...observation('Patient/smith'), id: 'o-smith', encounter: { reference: 'Encounter/e1' } });
  await put({ ...observation('Patient/brown'), id: 'o-brown' });
  await put({ ...observation('Location/ward'), id: 'o-ward' });
  await put({
    resourceType: 'Provenance',
    id: 'prov1',
    target: [{ reference: 'Observation/o-smith' }],
    recorded: '2026-01-01T00:00:00Z',
    agent: [{ who: { reference: 'Practitioner/jones' } }],
  });
});
afterAll(() => t.close());

type Bundle = { entry?: { resource: { id: string }; search: { mode: string } }[] };

const search = async (path: string, strict = false) => {
  const req = t.api().get(`/fhir/${path}`);
  if (strict) req.set('Prefer', 'handling=strict');
  return req;
};
const found = async (path: string) => {
  const res = await search(path);
  expect(res.status).toBe(200);
  return ((res.body as Bundle).entry ?? [])
    .filter((e) => e.search.mode === 'match')
    .map((e) => e.resource.id)
    .sort();
};

test('a chain with and without a type modifier, and on _id', async () => {
  expect(await found('Observation?subject:Patient.name=smith')).toEqual(['o-smith']);
  expect(await found('Observation?subject:Location.name=smith')).toEqual(['o-ward']);
  expect(await found('Observation?patient.name=smith')).toEqual(['o-smith']);
  expect(await found('Observation?patient.name:exact=Brown')).toEqual(['o-brown']);
  expect(await found('Encounter?subject.name=smith')).toEqual(['e1']);
  expect(await found('Observation?subject:Patient._id=brown')).toEqual(['o-brown']);
  expect(await found('Observation?subject:Patient.name=nobody')).toEqual([]);
});

test('chains two and three levels deep', async () => {
  expect(await found('Observation?subject:Patient.general-practitioner:Practitioner.name=jones')).toEqual(['o-smith']);
  expect(await found('Observation?patient.organization.name=acme')).toEqual(['o-smith']);
  expect(await found('Observation?patient.general-practitioner:Practitioner.name=lee')).toEqual(['o-brown']);
  expect(await found('Observation?encounter:Encounter.patient.general-practitioner:Practitioner.name=jones')).toEqual([
    'o-smith',
  ]);
  expect(await found('Observation?encounter:Encounter.patient.general-practitioner:Practitioner.name=lee')).toEqual([]);
});

test('an ambiguous chain without a type and a chain deeper than 3 are rejected', async () => {
  const ambiguous = await search('Observation?subject.name=smith');
  expect(ambiguous.status).toBe(400);
  expect(ambiguous.body.issue[0].diagnostics).toMatch(/Location, Patient|Patient, Location/);
  expect(ambiguous.body.issue[0].diagnostics).toMatch(/subject:Patient\.name/);
  expect((await search('Observation?encounter.patient.name=smith')).status).toBe(400);
  const deep = await search(
    'Observation?encounter:Encounter.patient.general-practitioner:Practitioner.organization.name=x',
  );
  expect(deep.status).toBe(400);
  expect(deep.body.issue[0].code).toBe('too-costly');
});

test('_has, single and nested, and its depth limit', async () => {
  expect(await found('Patient?_has:Observation:patient:code=8867-4')).toEqual(['brown', 'smith']);
  expect(await found('Patient?_has:Observation:patient:_id=o-brown')).toEqual(['brown']);
  expect(await found('Patient?_has:Observation:subject:code=http://loinc.org|8867-4')).toEqual(['brown', 'smith']);
  expect(await found('Location?_has:Observation:subject:code=8867-4')).toEqual(['ward']);
  expect(await found('Patient?_has:Observation:patient:code=0000-0')).toEqual([]);
  expect(await found('Patient?_has:Observation:patient:_has:Provenance:target:agent=Practitioner/jones')).toEqual([
    'smith',
  ]);
  expect(await found('Practitioner?_has:Patient:general-practitioner:_has:Observation:patient:_id=o-smith')).toEqual([
    'jones',
  ]);
  expect(await found('Encounter?_has:Observation:encounter:patient.name=smith')).toEqual(['e1']);
  const deep = await search(
    'Patient?_has:Observation:patient:_has:Provenance:target:_has:Provenance:target:_has:Provenance:target:agent=x',
  );
  expect(deep.status).toBe(400);
  expect(deep.body.issue[0].code).toBe('too-costly');
  expect((await search('Patient?_has:Observation:patient=x')).status).toBe(400);
});

test('what cannot be applied is ignored leniently and rejected under handling=strict', async () => {
  for (const path of [
    'Observation?code.name=smith',
    'Observation?patient.nonsense=smith',
    'Patient?_has:Observation:code:code=x',
    'Patient?_has:Nothing:patient:code=x',
  ]) {
    const lenient = await search(path);
    expect(lenient.status).toBe(200);
    const strict = await search(path, true);
    expect(strict.status).toBe(400);
  }
  expect(await found('Observation?patient.nonsense=smith')).toEqual(['o-brown', 'o-smith', 'o-ward']);
});

test('an unsupported modifier at any chain level is a 400 in both modes (R4 search.html#modifiers)', async () => {
  for (const path of [
    'Observation?patient.name:sounds-like=smith',
    'Observation?subject:Medication.name=x',
    'Observation?subject:Medication=x',
    'Patient?_has:Observation:patient:code:above=x',
  ]) {
    for (const strict of [false, true]) {
      const res = await search(path, strict);
      expect(res.status).toBe(400);
      expect(res.body.issue[0].diagnostics).toMatch(/modifier :/);
    }
  }
});
