// Conditional create, update, patch and delete with the spec's 0 / 1 / many outcomes.
import { FHIR_JSON, patient, startTestApp, type TestApp } from '../../support/app';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

const mrn = (value: string) => ({ identifier: [{ system: 'urn:mrn', value }] });

function create(body: Record<string, unknown>, ifNoneExist?: string) {
  const req = t.api().post('/fhir/Patient').set('Content-Type', FHIR_JSON);
  if (ifNoneExist) req.set('If-None-Exist', ifNoneExist);
  return req.send(body);
}

async function count(query: string): Promise<number> {
  return (await t.api().get(`/fhir/Patient?${query}&_count=0`)).body.total as number;
}

describe('conditional create (If-None-Exist)', () => {
  test('no match creates, one match returns the existing resource with 200', async () => {
    const first = await create(patient(mrn('c1')), 'identifier=urn:mrn|c1');
    expect(first.status).toBe(201);
    const second = await create(patient({ ...mrn('c1'), gender: 'male' }), 'identifier=urn:mrn|c1');
    expect(second.status).toBe(200);
    expect(second.body.id).toBe(first.body.id);
    expect(second.body.gender).toBe('female');
    expect(await count('identifier=urn:mrn|c1')).toBe(1);
  });

  test('several matches are 412', async () => {
    await create(patient({ ...mrn('c2'), gender: 'male' })).expect(201);
    await create(patient({ ...mrn('c2'), gender: 'male' })).expect(201);
    const res = await create(patient(mrn('c2')), 'identifier=urn:mrn|c2');
    expect(res.status).toBe(412);
    expect(await count('identifier=urn:mrn|c2')).toBe(2);
  });

  test('criteria with an unknown parameter are rejected, never ignored', async () => {
    const res = await create(patient(mrn('c3')), 'nonsense=1');
    expect(res.status).toBe(400);
    expect(res.body.issue[0].diagnostics).toMatch(/nonsense/);
  });

  test('the full URL form Patient?criteria is accepted', async () => {
    await create(patient(mrn('c4')), 'Patient?identifier=urn:mrn|c4').expect(201);
    await create(patient(mrn('c4')), 'Patient?identifier=urn:mrn|c4').expect(200);
  });

  test('concurrent conditional creates make exactly one resource', async () => {
    const results = await Promise.all(
      Array.from({ length: 8 }, () => create(patient(mrn('race')), 'identifier=urn:mrn|race')),
    );
    expect(results.filter((r) => r.status === 201)).toHaveLength(1);
    expect(results.filter((r) => r.status === 200)).toHaveLength(7);
    expect(await count('identifier=urn:mrn|race')).toBe(1);
  });
});

describe('conditional update (PUT [type]?criteria)', () => {
  const put = (query: string, body: Record<string, unknown>) =>
    t.api().put(`/fhir/Patient?${query}`).set('Content-Type', FHIR_JSON).send(body);

  test('no match creates, one match updates it', async () => {
    const created = await put('identifier=urn:mrn|u1', patient(mrn('u1')));
    expect(created.status).toBe(201);
    const updated = await put('identifier=urn:mrn|u1', patient({ ...mrn('u1'), active: true }));
    expect(updated.status).toBe(200);
    expect(updated.body.id).toBe(created.body.id);
    expect(updated.body.meta.versionId).toBe('2');
  });

  test('no match with a body id creates with that id', async () => {
    const res = await put('identifier=urn:mrn|u2', patient({ ...mrn('u2'), id: 'cond-u2' }));
    expect(res.status).toBe(201);
    expect(res.body.id).toBe('cond-u2');
  });

  test('a body id differing from the match is 400; several matches are 412', async () => {
    await put('identifier=urn:mrn|u3', patient(mrn('u3'))).expect(201);
    expect((await put('identifier=urn:mrn|u3', patient({ ...mrn('u3'), id: 'other' }))).status).toBe(400);
    await create(patient(mrn('u4'))).expect(201);
    await create(patient(mrn('u4'))).expect(201);
    expect((await put('identifier=urn:mrn|u4', patient(mrn('u4')))).status).toBe(412);
  });

  test('PUT without id or criteria is 400', async () => {
    expect((await t.api().put('/fhir/Patient').set('Content-Type', FHIR_JSON).send(patient())).status).toBe(400);
  });
});

describe('conditional patch', () => {
  const patch = (query: string, ops: unknown[]) =>
    t
      .api()
      .patch(`/fhir/Patient?${query}`)
      .set('Content-Type', 'application/json-patch+json')
      .send(JSON.stringify(ops));

  test('patches the single match; none is 404; several is 412', async () => {
    await create(patient(mrn('p1'))).expect(201);
    const res = await patch('identifier=urn:mrn|p1', [{ op: 'add', path: '/active', value: true }]);
    expect(res.status).toBe(200);
    expect(res.body.active).toBe(true);
    expect((await patch('identifier=urn:mrn|nobody', [])).status).toBe(404);
    await create(patient(mrn('p2'))).expect(201);
    await create(patient(mrn('p2'))).expect(201);
    expect((await patch('identifier=urn:mrn|p2', [])).status).toBe(412);
    expect(
      (await t.api().patch('/fhir/Patient').set('Content-Type', 'application/json-patch+json').send('[]')).status,
    ).toBe(400);
  });
});

describe('conditional delete', () => {
  test('deletes every match; zero matches is fine', async () => {
    for (let i = 0; i < 3; i++) await create(patient(mrn('d1'))).expect(201);
    const res = await t.api().delete('/fhir/Patient?identifier=urn:mrn|d1');
    expect(res.status).toBe(204);
    expect(await count('identifier=urn:mrn|d1')).toBe(0);
    const none = await t.api().delete('/fhir/Patient?identifier=urn:mrn|d1').set('Prefer', 'return=OperationOutcome');
    expect(none.status).toBe(200);
    expect(none.body.issue[0].diagnostics).toBe('Deleted 0 resources');
  });

  test('more matches than the bound is 412 and deletes nothing', async () => {
    const bundle = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: Array.from({ length: 101 }, () => ({
        resource: patient(mrn('many')),
        request: { method: 'POST', url: 'Patient' },
      })),
    };
    await t.api().post('/fhir').set('Content-Type', FHIR_JSON).send(bundle).expect(200);
    const res = await t.api().delete('/fhir/Patient?identifier=urn:mrn|many');
    expect(res.status).toBe(412);
    expect(await count('identifier=urn:mrn|many')).toBe(101);
  });

  test('without criteria, or with unknown ones, nothing is deleted', async () => {
    expect((await t.api().delete('/fhir/Patient')).status).toBe(400);
    expect((await t.api().delete('/fhir/Patient?bogus=1')).status).toBe(400);
    expect((await t.api().delete('/fhir/Patient?_count=5')).status).toBe(400);
    expect(await count('identifier=urn:mrn|many')).toBe(101);
  });
});
