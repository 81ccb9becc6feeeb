// Patient/$merge and Patient/$unmerge over HTTP, on SQLite and on the MongoDB adapter: preview changes nothing,
// a merge repoints every reference and records a Provenance, the undo restores every resource to its
// pre-merge content, and is refused (409) once one of them changed; bad input, unknown patients, business
// rules, and who may merge (not a patient) or undo (administrators).
import request from 'supertest';
import type { Parameters, Patient, Provenance, Resource } from '@medplum/fhirtypes';
import { MongoStore } from '../../../resources/store/mongo/mongo-store';
import { MingoDatabase } from '../../support/mingo-database';
import { FHIR_JSON, observation, putThroughApi, startTestApp, type TestApp } from '../../support/app';

const BASE = 'http://localhost:8080/fhir';

/** A source patient with a chart pointing at it in several ways, a target, and a record of the target's own. */
function chart(p: string): Record<string, unknown>[] {
  const s = `Patient/${p}-s`;
  return [
    {
      resourceType: 'Patient',
      id: `${p}-s`,
      identifier: [{ system: 'urn:mrn', value: `S-${p}` }],
      name: [{ family: 'Lee', given: ['Ann'] }],
      active: true,
    },
    {
      resourceType: 'Patient',
      id: `${p}-t`,
      identifier: [{ system: 'urn:mrn', value: `T-${p}` }],
      name: [{ family: 'Lee', given: ['Anne'] }],
    },
    { ...observation(s), id: `${p}-obs1` },
    { ...observation(`${BASE}/${s}`), id: `${p}-obs-abs` },
    {
      resourceType: 'Encounter',
      id: `${p}-enc`,
      status: 'finished',
      class: { code: 'AMB' },
      subject: { reference: s },
    },
    { ...observation(s), id: `${p}-obs-enc`, encounter: { reference: `Encounter/${p}-enc` } },
    {
      resourceType: 'Condition',
      id: `${p}-cond`,
      subject: { reference: s },
      asserter: { reference: s },
      code: { text: 'Asthma' },
    },
    { resourceType: 'Patient', id: `${p}-rel`, link: [{ type: 'seealso', other: { reference: s } }] },
    {
      resourceType: 'Appointment',
      id: `${p}-appt`,
      status: 'proposed',
      participant: [{ actor: { reference: s }, status: 'accepted' }],
    },
    { ...observation(`Patient/${p}-t`), id: `${p}-obs-t` },
  ];
}
const REPOINTED = ['obs1', 'obs-abs', 'enc', 'obs-enc', 'cond', 'rel', 'appt'];

const mergeBody = (p: string, ...more: unknown[]): Parameters => ({
  resourceType: 'Parameters',
  parameter: [
    { name: 'source-patient', valueReference: { reference: `Patient/${p}-s` } },
    { name: 'target-patient', valueReference: { reference: `Patient/${p}-t` } },
    ...(more as Parameters['parameter'] & object),
  ],
});
const out = (body: Parameters, name: string) => body.parameter?.find((x) => x.name === name);
const withoutMeta = ({ meta: _meta, ...rest }: Resource) => rest;

describe.each([
  ['SQLite', () => startTestApp()],
  ['MongoDB adapter (mingo)', () => startTestApp({ store: new MongoStore(new MingoDatabase()) })],
])('Patient/$merge on %s', (_name, start) => {
  let t: TestApp;
  const post = (op: string, body: unknown, token = t.token) =>
    request(t.app)
      .post(`/fhir/Patient/$${op}`)
      .set('Authorization', `Bearer ${token}`)
      .set('Content-Type', FHIR_JSON)
      .send(body as object);
  const read = async (p: string, what: string): Promise<Resource> => {
    const type = chart(p).find((r) => r.id === `${p}-${what}`)?.resourceType as string;
    const res = await t.api().get(`/fhir/${type}/${p}-${what}`);
    expect(res.status).toBe(200);
    return res.body as Resource;
  };
  const seed = async (p: string) => {
    for (const resource of chart(p)) await putThroughApi(t, resource);
    const all = ['s', 't', ...REPOINTED, 'obs-t'];
    return Object.fromEntries(await Promise.all(all.map(async (w) => [w, await read(p, w)] as const)));
  };

  beforeAll(async () => {
    t = await start();
  });
  afterAll(() => t.close());

  test('preview says what would change and changes nothing', async () => {
    const before = await seed('pv');
    const res = await post('merge', mergeBody('pv', { name: 'preview', valueBoolean: true }));
    expect(res.status).toBe(200);
    expect(out(res.body, 'outcome')?.resource).toMatchObject({
      issue: [
        {
          severity: 'information',
          diagnostics: expect.stringMatching(
            /Preview only.*would update 9 resources \(Patient 3, Appointment 1, Condition 1, Encounter 1, Observation 3\)/,
          ),
        },
      ],
    });
    expect(out(res.body, 'result')?.resource).toMatchObject({
      id: 'pv-t',
      link: [{ type: 'replaces', other: { reference: 'Patient/pv-s' } }],
      identifier: [{ value: 'T-pv' }, { value: 'S-pv', use: 'old' }],
    });
    expect(out(res.body, 'input')?.resource).toEqual(mergeBody('pv', { name: 'preview', valueBoolean: true }));
    for (const [what, resource] of Object.entries(before)) expect(await read('pv', what)).toEqual(resource);
    expect((await t.api().get('/fhir/Provenance?target=Patient/pv-t')).body.total ?? 0).toBe(0);
  });

  test('merge repoints every reference in one go, with a Provenance; the undo restores every resource', async () => {
    const before = await seed('rt');
    const res = await post('merge', mergeBody('rt'));
    expect(res.status).toBe(200);
    const source = (await read('rt', 's')) as Patient;
    expect(source).toMatchObject({
      active: false,
      link: [{ type: 'replaced-by', other: { reference: 'Patient/rt-t' } }],
    });
    const target = (await read('rt', 't')) as Patient;
    expect(out(res.body, 'result')?.resource).toEqual(target);
    expect(target.link).toEqual([{ type: 'replaces', other: { reference: 'Patient/rt-s' } }]);
    expect(target.identifier).toEqual([
      { system: 'urn:mrn', value: 'T-rt' },
      { system: 'urn:mrn', value: 'S-rt', use: 'old' },
    ]);
    for (const what of REPOINTED) {
      const text = JSON.stringify(await read('rt', what));
      expect({ what, old: text.includes('Patient/rt-s"') }).toEqual({ what, old: false });
      expect(text).toContain('Patient/rt-t');
    }
    expect(JSON.stringify(await read('rt', 'obs-abs'))).toContain(`${BASE}/Patient/rt-t`);
    expect(await read('rt', 'obs-t')).toEqual(before['obs-t']);
    expect((await t.api().get('/fhir/Patient/rt-s/Observation')).body.entry ?? []).toEqual([]);
    expect((await t.api().get('/fhir/Observation?subject=Patient/rt-t')).body.entry).toHaveLength(4);

    const matched = await post('match', { resourceType: 'Patient', name: [{ family: 'Lee', given: ['Ann'] }] });
    expect(matched.body.entry.map((e: { resource: { id: string } }) => e.resource.id)).not.toContain('rt-s');
    expect(JSON.stringify(matched.body)).toMatch(/rt-s .*merged into Patient\/rt-t/);

    const provenanceRef = out(res.body, 'provenance')?.valueReference?.reference as string;
    const provenance = (await t.api().get(`/fhir/${provenanceRef}`)).body as Provenance;
    expect(provenance.activity?.coding?.[0]).toMatchObject({ code: 'merge' });
    expect(provenance.target).toHaveLength(9);
    expect(provenance.target).toContainEqual({ reference: 'Observation/rt-obs1/_history/2' });
    expect(provenance.entity).toContainEqual({
      role: 'revision',
      what: { reference: 'Observation/rt-obs1/_history/1' },
    });

    const undo = await post('unmerge', {
      resourceType: 'Parameters',
      parameter: [{ name: 'provenance', valueReference: { reference: provenanceRef } }],
    });
    expect(undo.status).toBe(200);
    expect(out(undo.body, 'outcome')?.resource).toMatchObject({
      issue: [{ diagnostics: expect.stringMatching(/Restored 9 resources/) }],
    });
    for (const [what, resource] of Object.entries(before)) {
      const now = await read('rt', what);
      expect({ what, content: withoutMeta(now) }).toEqual({ what, content: withoutMeta(resource) });
      if (what !== 'obs-t') expect(now.meta?.versionId).toBe('3');
    }
    const marked = (await t.api().get(`/fhir/${provenanceRef}`)).body as Provenance;
    expect(marked.meta?.tag).toContainEqual(expect.objectContaining({ code: 'undone' }));
    const undoProvenance = out(undo.body, 'provenance')?.valueReference?.reference as string;
    expect((await t.api().get(`/fhir/${undoProvenance}`)).body).toMatchObject({
      activity: { coding: [{ code: 'unmerge' }] },
      entity: expect.arrayContaining([{ role: 'source', what: { reference: provenanceRef } }]),
    });
    const again = await post('unmerge', {
      resourceType: 'Parameters',
      parameter: [{ name: 'provenance', valueReference: { reference: provenanceRef } }],
    });
    expect(again.status).toBe(422);
    expect(again.body.issue[0].diagnostics).toMatch(/undone already/);
  });

  test('the undo is refused once a merged resource changed, naming it, and restores nothing', async () => {
    await seed('ch');
    const res = await post('merge', mergeBody('ch'));
    const provenanceRef = out(res.body, 'provenance')?.valueReference?.reference as string;
    const changed = { ...(await read('ch', 'obs1')), status: 'amended' };
    await putThroughApi(t, changed as Record<string, unknown>);
    expect([200, 204]).toContain((await t.api().delete('/fhir/Condition/ch-cond')).status);
    const undo = await post('unmerge', {
      resourceType: 'Parameters',
      parameter: [{ name: 'provenance', valueReference: { reference: provenanceRef } }],
    });
    expect(undo.status).toBe(409);
    expect(undo.body.issue).toEqual([
      expect.objectContaining({
        code: 'conflict',
        diagnostics: expect.stringMatching(/Condition\/ch-cond changed since the merge.*was deleted/),
      }),
      expect.objectContaining({
        code: 'conflict',
        diagnostics: expect.stringMatching(/Observation\/ch-obs1 changed since the merge.*version 3/),
      }),
    ]);
    expect(await read('ch', 's')).toMatchObject({ active: false });
  });

  test('a result-patient becomes the target as given (no identifiers copied); identifiers can name the patients', async () => {
    await seed('rp');
    const result = { resourceType: 'Patient', id: 'rp-t', name: [{ family: 'Lee', given: ['Anne', 'Marie'] }] };
    const res = await post('merge', {
      resourceType: 'Parameters',
      parameter: [
        { name: 'source-patient-identifier', valueIdentifier: { system: 'urn:mrn', value: 'S-rp' } },
        { name: 'target-patient-identifier', valueIdentifier: { system: 'urn:mrn', value: 'T-rp' } },
        { name: 'result-patient', resource: result },
      ],
    });
    expect(res.status).toBe(200);
    const target = (await read('rp', 't')) as Patient;
    expect(withoutMeta(target)).toEqual({
      ...result,
      link: [{ type: 'replaces', other: { reference: 'Patient/rp-s' } }],
    });
  });

  test('bad input is a 400, an unknown patient a 404, a broken business rule a 422', async () => {
    await seed('er');
    await putThroughApi(t, { resourceType: 'Patient', id: 'er-inactive', active: false });
    await putThroughApi(t, {
      resourceType: 'Patient',
      id: 'er-twin1',
      identifier: [{ system: 'urn:dup', value: 'X' }],
    });
    await putThroughApi(t, {
      resourceType: 'Patient',
      id: 'er-twin2',
      identifier: [{ system: 'urn:dup', value: 'X' }],
    });
    const ref = (name: string, id: string) => ({ name, valueReference: { reference: `Patient/${id}` } });
    const params = (...parameter: unknown[]) => ({ resourceType: 'Parameters', parameter });
    const cases: [unknown, number, RegExp][] = [
      [{ resourceType: 'Patient' }, 400, /Parameters body/],
      [params(ref('source-patient', 'er-s')), 400, /target-patient/],
      [
        params(
          ref('source-patient', 'er-s'),
          { name: 'source-patient-identifier', valueIdentifier: { value: 'S-er' } },
          ref('target-patient', 'er-t'),
        ),
        400,
        /not both/,
      ],
      [
        params(
          { name: 'source-patient', valueReference: { reference: 'Observation/1' } },
          ref('target-patient', 'er-t'),
        ),
        400,
        /valueReference to a Patient/,
      ],
      [
        params(ref('source-patient', 'er-s'), ref('target-patient', 'er-t'), {
          name: 'result-patient',
          resource: { resourceType: 'Patient', id: 'other' },
        }),
        400,
        /target's id/,
      ],
      [
        params(ref('source-patient', 'er-s'), ref('target-patient', 'er-t'), { name: 'preview', valueString: 'yes' }),
        400,
        /preview/,
      ],
      [params(ref('source-patient', 'nobody'), ref('target-patient', 'er-t')), 404, /nobody/],
      [
        params(
          { name: 'source-patient-identifier', valueIdentifier: { system: 'urn:mrn', value: 'none' } },
          ref('target-patient', 'er-t'),
        ),
        404,
        /source identifiers/,
      ],
      [params(ref('source-patient', 'er-s'), ref('target-patient', 'er-s')), 422, /same Patient/],
      [params(ref('source-patient', 'er-inactive'), ref('target-patient', 'er-t')), 422, /inactive/],
      [params(ref('source-patient', 'er-s'), ref('target-patient', 'er-inactive')), 422, /target .* inactive/],
      [
        params(
          { name: 'source-patient-identifier', valueIdentifier: { system: 'urn:dup', value: 'X' } },
          ref('target-patient', 'er-t'),
        ),
        422,
        /more than one/,
      ],
    ];
    for (const [body, status, message] of cases) {
      const res = await post('merge', body);
      expect({ body, status: res.status, message: res.body.issue?.[0]?.diagnostics }).toEqual({
        body,
        status,
        message: expect.stringMatching(message),
      });
    }
    expect((await post('merge', mergeBody('er'))).status).toBe(200);
    const again = await post('merge', mergeBody('er'));
    expect({ status: again.status, message: again.body.issue[0].diagnostics }).toEqual({
      status: 422,
      message: expect.stringMatching(/already merged into Patient\/er-t/),
    });
    const intoMerged = await post('merge', params(ref('source-patient', 'er-twin1'), ref('target-patient', 'er-s')));
    expect(intoMerged.status).toBe(422);
    const badUndo: [unknown, number][] = [
      [{ resourceType: 'Parameters', parameter: [] }, 400],
      [
        {
          resourceType: 'Parameters',
          parameter: [{ name: 'provenance', valueReference: { reference: 'Provenance/none' } }],
        },
        404,
      ],
    ];
    for (const [body, status] of badUndo) expect((await post('unmerge', body)).status).toBe(status);
    expect(
      (
        await request(t.app)
          .post('/fhir/Observation/$merge')
          .set('Authorization', `Bearer ${t.token}`)
          .set('Content-Type', FHIR_JSON)
          .send(mergeBody('er'))
      ).status,
    ).toBe(404);
  });

  test('a patient token cannot merge; a staff user can, but only an administrator can undo', async () => {
    await seed('gr');
    const patientToken = await token(t, {
      scope: 'patient/*.cruds',
      patient: 'gr-s',
      role: 'patient',
      fhirUser: 'Patient/gr-s',
    });
    const refused = await post('merge', mergeBody('gr'), patientToken);
    expect(refused.status).toBe(403);
    expect((await read('gr', 's')).meta?.versionId).toBe('1');
    const narrow = await token(t, { scope: 'user/Patient.cruds', role: 'clinician' });
    expect((await post('merge', mergeBody('gr'), narrow)).status).toBe(403);
    const granular = await token(t, { scope: 'user/Patient.rs?gender=female user/Patient.u', role: 'clinician' });
    const narrowed = await post('merge', mergeBody('gr'), granular);
    expect({ status: narrowed.status, message: narrowed.body.issue[0].diagnostics }).toEqual({
      status: 403,
      message: expect.stringMatching(/unrestricted search and update on Patient/),
    });
    const staff = await token(t, { scope: 'user/*.cruds', role: 'clinician', fhirUser: 'Practitioner/dr-1' });
    const merged = await post('merge', mergeBody('gr'), staff);
    expect(merged.status).toBe(200);
    const provenanceRef = out(merged.body, 'provenance')?.valueReference?.reference as string;
    expect((await t.api().get(`/fhir/${provenanceRef}`)).body.agent[0].who).toEqual({ reference: 'Practitioner/dr-1' });
    const undoBody = {
      resourceType: 'Parameters',
      parameter: [{ name: 'provenance', valueReference: { reference: provenanceRef } }],
    };
    expect((await post('unmerge', undoBody, staff)).status).toBe(403);
    const admin = await token(t, { scope: 'user/*.cruds admin', role: 'admin' });
    expect((await post('unmerge', undoBody, admin)).status).toBe(200);
  });
});

async function token(
  t: TestApp,
  claims: { scope: string; role: string; patient?: string; fhirUser?: string },
): Promise<string> {
  const { token: issued } = await t.auth.tokens.issueAccessToken(
    { clientId: 'app', userId: `u-${claims.role}`, ...claims },
    600_000,
  );
  return issued;
}
