// PATCH with a FHIRPath Patch (a Parameters resource as application/fhir+json) through the real app: versions,
// If-Match, conditional patch, validation of the result, 400/415/422 with nothing written, and PATCH entries
// of batch and transaction Bundles carrying a Parameters resource.
import type { Bundle, Parameters, ParametersParameter, Patient } from '@medplum/fhirtypes';
import { bundleOf, bundleTestKit, entry } from '../../support/bundles';
import { FHIR_JSON, startTestApp, type TestApp } from '../../support/app';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

const kit = bundleTestKit(() => t, 'urn:test:fhirpath-patch');

function operation(type: string, path: string, parts: ParametersParameter[] = []): ParametersParameter {
  return {
    name: 'operation',
    part: [{ name: 'type', valueCode: type }, { name: 'path', valueString: path }, ...parts],
  };
}

function patchOf(...operations: ParametersParameter[]): Parameters {
  return { resourceType: 'Parameters', parameter: operations };
}

const patchRequest = (url: string, body: object) => t.api().patch(url).set('Content-Type', FHIR_JSON).send(body);

async function expectUnchanged(created: Patient) {
  const read = await t.api().get(`/fhir/Patient/${created.id}`);
  expect(read.body).toEqual(created);
}

describe('PATCH with a FHIRPath Patch', () => {
  test('applies the operations in order and stores a new version', async () => {
    const created = await kit.createPatient(kit.uniqueValue('apply'));
    const res = await patchRequest(
      `/fhir/Patient/${created.id}`,
      patchOf(
        operation('replace', 'Patient.gender', [{ name: 'value', valueCode: 'male' }]),
        operation('add', 'Patient', [
          { name: 'name', valueString: 'active' },
          { name: 'value', valueBoolean: true },
        ]),
        operation('delete', 'Patient.birthDate'),
      ),
    );
    expect(res.status).toBe(200);
    expect(res.headers.etag).toBe('W/"2"');
    expect(res.body).toMatchObject({ gender: 'male', active: true, meta: { versionId: '2' } });
    expect(res.body.birthDate).toBeUndefined();
    const history = await t.api().get(`/fhir/Patient/${created.id}/_history`);
    expect(history.body.entry[0].request).toEqual({ method: 'PATCH', url: `Patient/${created.id}` });
  });

  test('adds a HumanName given as parts, and inserts and moves list items', async () => {
    const created = await kit.createPatient(kit.uniqueValue('parts'));
    const res = await patchRequest(
      `/fhir/Patient/${created.id}`,
      patchOf(
        operation('add', 'Patient', [
          { name: 'name', valueString: 'name' },
          {
            name: 'value',
            part: [
              { name: 'use', valueCode: 'nickname' },
              { name: 'family', valueString: 'Jones' },
              { name: 'given', valueString: 'Ann' },
              { name: 'given', valueString: 'Marie' },
            ],
          },
        ]),
        operation('insert', 'Patient.identifier', [
          { name: 'index', valueInteger: 0 },
          { name: 'value', valueIdentifier: { system: 'urn:test:mrn', value: 'A1' } },
        ]),
        operation('move', 'Patient.name', [
          { name: 'source', valueInteger: 1 },
          { name: 'destination', valueInteger: 0 },
        ]),
      ),
    );
    expect(res.status).toBe(200);
    expect(res.body.name).toEqual([
      { use: 'nickname', family: 'Jones', given: ['Ann', 'Marie'] },
      { family: 'Smith', given: ['Anna'] },
    ]);
    expect(res.body.identifier[0]).toEqual({ system: 'urn:test:mrn', value: 'A1' });
    expect(res.body.identifier).toHaveLength(2);
  });

  test('a choice element is named without its type and may change type on replace', async () => {
    const created = await kit.createPatient(kit.uniqueValue('choice'));
    const url = `/fhir/Patient/${created.id}`;
    const added = await patchRequest(
      url,
      patchOf(
        operation('add', 'Patient', [
          { name: 'name', valueString: 'deceased' },
          { name: 'value', valueBoolean: false },
        ]),
      ),
    );
    expect(added.status).toBe(200);
    expect(added.body.deceasedBoolean).toBe(false);
    const replaced = await patchRequest(
      url,
      patchOf(operation('replace', 'Patient.deceased', [{ name: 'value', valueDateTime: '2024-05-01' }])),
    );
    expect(replaced.status).toBe(200);
    expect(replaced.body.deceasedDateTime).toBe('2024-05-01');
    expect(replaced.body.deceasedBoolean).toBeUndefined();
  });

  test('a patch without operations changes nothing and keeps the version', async () => {
    const created = await kit.createPatient(kit.uniqueValue('empty'));
    const res = await patchRequest(`/fhir/Patient/${created.id}`, { resourceType: 'Parameters' });
    expect(res.status).toBe(200);
    expect(res.body.meta.versionId).toBe('1');
  });

  test('an operation that cannot be applied is a 422 and nothing of the patch is written', async () => {
    const created = await kit.createPatient(kit.uniqueValue('fails'));
    const url = `/fhir/Patient/${created.id}`;
    const failures: [ParametersParameter, RegExp][] = [
      [operation('replace', 'Patient.maritalStatus', [{ name: 'value', valueString: 'x' }]), /no content found/],
      [operation('delete', 'Patient.name.given | Patient.identifier'), /selects 2 elements/],
      [operation('replace', 'Patient', [{ name: 'value', valueString: 'x' }]), /the resource itself/],
      [operation('replace', 'Patient.id', [{ name: 'value', valueString: 'other' }]), /type or id/],
      [
        operation('add', 'Patient', [
          { name: 'name', valueString: 'gender' },
          { name: 'value', valueCode: 'male' },
        ]),
        /already has gender; use replace/,
      ],
      [
        operation('add', 'Patient', [
          { name: 'name', valueString: 'nonsense' },
          { name: 'value', valueString: 'x' },
        ]),
        /Patient has no element "nonsense"/,
      ],
      [
        operation('add', 'Patient', [
          { name: 'name', valueString: 'maritalStatus' },
          { name: 'value', valueString: 'married' },
        ]),
        /maritalStatus takes CodeableConcept, not string/,
      ],
      [
        operation('insert', 'Patient.identifier', [
          { name: 'index', valueInteger: 5 },
          { name: 'value', valueIdentifier: { value: 'x' } },
        ]),
        /index 5 is past the end/,
      ],
      [
        operation('move', 'Patient.identifier', [
          { name: 'source', valueInteger: 0 },
          { name: 'destination', valueInteger: 3 },
        ]),
        /destination 3 is outside/,
      ],
      [operation('delete', "Patient.name.where(family.memberOf('x'))"), /cannot be evaluated/],
    ];
    for (const [failing, message] of failures) {
      const res = await patchRequest(
        url,
        patchOf(operation('replace', 'Patient.gender', [{ name: 'value', valueCode: 'other' }]), failing),
      );
      expect({ status: res.status, diagnostics: res.body.issue?.[0]?.diagnostics }).toEqual({
        status: 422,
        diagnostics: expect.stringMatching(message),
      });
    }
    await expectUnchanged(created);
  });

  test('the patched resource is validated: an invalid result is a 400 naming the element', async () => {
    const created = await kit.createPatient(kit.uniqueValue('invalid'));
    const res = await patchRequest(
      `/fhir/Patient/${created.id}`,
      patchOf(operation('replace', 'Patient.gender', [{ name: 'value', valueCode: 'bogus' }])),
    );
    expect(res.status).toBe(400);
    expect(res.body.issue[0].expression).toEqual(['Patient.gender']);
    await expectUnchanged(created);
  });

  test('a malformed FHIRPath Patch is a 400', async () => {
    const created = await kit.createPatient(kit.uniqueValue('malformed'));
    const url = `/fhir/Patient/${created.id}`;
    const malformed: [object, RegExp][] = [
      [patchOf(operation('merge', 'Patient')), /unknown operation type "merge"/],
      [patchOf(operation('add', 'Patient', [{ name: 'name', valueString: 'active' }])), /needs a "value" part/],
      [patchOf(operation('delete', 'Patient.name.where(')), /is not valid FHIRPath/],
      [patchOf(operation('delete', 'Patient', [{ name: 'index', valueInteger: 1 }])), /takes no "index" part/],
      [
        patchOf(operation('move', 'Patient.name', [{ name: 'source', valueInteger: -1 }, { name: 'destination' }])),
        /valueInteger of 0 or more/,
      ],
      [{ resourceType: 'Parameters', parameter: [{ name: 'op', part: [] }] }, /must be named "operation"/],
    ];
    for (const [body, message] of malformed) {
      const res = await patchRequest(url, body);
      expect({ status: res.status, diagnostics: res.body.issue?.[0]?.diagnostics }).toEqual({
        status: 400,
        diagnostics: expect.stringMatching(message),
      });
    }
    await expectUnchanged(created);
  });

  test('the media type decides the format: other resources and types are 415', async () => {
    const created = await kit.createPatient(kit.uniqueValue('media'));
    const url = `/fhir/Patient/${created.id}`;
    const notParameters = await patchRequest(url, { resourceType: 'Patient' });
    expect(notParameters.status).toBe(415);
    expect(notParameters.body.issue[0].diagnostics).toMatch(/got a Patient as application\/fhir\+json/);
    const xml = await t.api().patch(url).set('Content-Type', 'application/fhir+xml').send('<Parameters/>');
    expect(xml.status).toBe(415);
    const asJsonPatch = await t
      .api()
      .patch(url)
      .set('Content-Type', 'application/json-patch+json')
      .send(JSON.stringify(patchOf()));
    expect(asJsonPatch.status).toBe(400);
    const plainJson = await t
      .api()
      .patch(url)
      .set('Content-Type', 'application/json')
      .send(patchOf(operation('replace', 'Patient.gender', [{ name: 'value', valueCode: 'other' }])));
    expect(plainJson.status).toBe(200);
    expect(plainJson.body.gender).toBe('other');
    // A Buffer goes out without a Content-Type: the body's shape then says which format it is.
    const untypedParameters = await t
      .api()
      .patch(url)
      .send(Buffer.from(JSON.stringify(patchOf(operation('delete', 'Patient.birthDate')))));
    expect(untypedParameters.status).toBe(200);
    expect(untypedParameters.body.birthDate).toBeUndefined();
    const untypedJsonPatch = await t
      .api()
      .patch(url)
      .send(Buffer.from(JSON.stringify([{ op: 'add', path: '/active', value: true }])));
    expect(untypedJsonPatch.status).toBe(200);
    expect(untypedJsonPatch.body.active).toBe(true);
  });

  test('If-Match guards a FHIRPath Patch', async () => {
    const created = await kit.createPatient(kit.uniqueValue('if-match'));
    const url = `/fhir/Patient/${created.id}`;
    const body = patchOf(operation('replace', 'Patient.gender', [{ name: 'value', valueCode: 'male' }]));
    const stale = await t.api().patch(url).set('Content-Type', FHIR_JSON).set('If-Match', 'W/"7"').send(body);
    expect(stale.status).toBe(412);
    const current = await t.api().patch(url).set('Content-Type', FHIR_JSON).set('If-Match', 'W/"1"').send(body);
    expect(current.status).toBe(200);
    expect(current.body.meta.versionId).toBe('2');
  });

  test('conditional PATCH finds its target by search criteria', async () => {
    const value = kit.uniqueValue('conditional');
    const created = await kit.createPatient(value);
    const body = patchOf(operation('replace', 'Patient.name[0].family', [{ name: 'value', valueString: 'Baker' }]));
    const res = await patchRequest(`/fhir/Patient?identifier=urn:test:fhirpath-patch|${value}`, body);
    expect(res.status).toBe(200);
    expect(res.body.id).toBe(created.id);
    expect(res.body.name[0].family).toBe('Baker');
    const none = await patchRequest(`/fhir/Patient?identifier=urn:test:fhirpath-patch|nobody-${value}`, body);
    expect(none.status).toBe(404);
  });

  test('unknown and deleted targets are 404 and 410', async () => {
    const body = patchOf(operation('delete', 'Patient.active'));
    expect((await patchRequest('/fhir/Patient/nobody', body)).status).toBe(404);
    const created = await kit.createPatient(kit.uniqueValue('deleted'));
    await t.api().delete(`/fhir/Patient/${created.id}`).expect(204);
    expect((await patchRequest(`/fhir/Patient/${created.id}`, body)).status).toBe(410);
  });
});

describe('PATCH entries carrying a Parameters resource', () => {
  test('a batch applies them', async () => {
    const created = await kit.createPatient(kit.uniqueValue('batch'));
    const res = await kit.postBundle(
      bundleOf('batch', [
        entry('PATCH', `Patient/${created.id}`, {
          resource: patchOf(operation('replace', 'Patient.gender', [{ name: 'value', valueCode: 'unknown' }])),
        }),
        entry('PATCH', `Patient/${created.id}`, { resource: patchOf(operation('delete', 'Patient')) }),
      ]),
    );
    expect(res.status).toBe(200);
    const [applied, refused] = (res.body as Bundle).entry ?? [];
    expect(applied.response?.status).toBe('200 OK');
    expect((applied.resource as Patient).gender).toBe('unknown');
    expect(refused.response?.status).toMatch(/^422/);
  });

  test('a transaction resolves references in them to resources it creates', async () => {
    const created = await kit.createPatient(kit.uniqueValue('transaction'));
    const res = await kit.postBundle(
      bundleOf('transaction', [
        {
          fullUrl: 'urn:uuid:5f8e2a8e-0d0c-4a4e-9d7a-3c1f0b7e1a11',
          resource: { resourceType: 'Practitioner', name: [{ family: 'House' }] },
          request: { method: 'POST', url: 'Practitioner' },
        },
        entry('PATCH', `Patient/${created.id}`, {
          resource: patchOf(
            operation('add', 'Patient', [
              { name: 'name', valueString: 'generalPractitioner' },
              { name: 'value', valueReference: { reference: 'urn:uuid:5f8e2a8e-0d0c-4a4e-9d7a-3c1f0b7e1a11' } },
            ]),
          ),
        }),
      ]),
    );
    expect(res.status).toBe(200);
    const [practitioner, patched] = (res.body as Bundle).entry ?? [];
    const practitionerId = practitioner.response?.location?.split('/')[1];
    const read = await t.api().get(`/fhir/Patient/${created.id}`);
    expect(read.body.generalPractitioner).toEqual([{ reference: `Practitioner/${practitionerId}` }]);
    expect(patched.response?.status).toBe('200 OK');
  });

  test('a transaction with a failing FHIRPath Patch writes nothing', async () => {
    const value = kit.uniqueValue('rollback');
    const created = await kit.createPatient(value);
    const res = await kit.postBundle(
      bundleOf('transaction', [
        entry('POST', 'Patient', { resource: kit.identified(`${value}-new`) }),
        entry('PATCH', `Patient/${created.id}`, {
          resource: patchOf(
            operation('replace', 'Patient.gender', [{ name: 'value', valueCode: 'male' }]),
            operation('replace', 'Patient.photo', [{ name: 'value', valueString: 'x' }]),
          ),
        }),
      ]),
    );
    expect(res.status).toBe(422);
    expect(res.body.resourceType).toBe('OperationOutcome');
    expect(await kit.findByIdentifier('Patient', `${value}-new`)).toEqual([]);
    await expectUnchanged(created);
  });
});
