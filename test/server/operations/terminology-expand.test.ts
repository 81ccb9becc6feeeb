// ValueSet/$expand end to end over HTTP, GET and POST, type and instance level, on SQLite and on the MongoDB
// adapter: compose filters, typeahead ranking, the order filter -> activeOnly -> total -> page, the default
// and maximum count, and the 4xx answers for bad input.
import type { ValueSet } from '@medplum/fhirtypes';
import { MongoStore } from '../../../resources/store/mongo/mongo-store';
import { startTestApp, type TestApp } from '../../support/app';
import { MingoDatabase } from '../../support/mingo-database';
import { BULK, LAB, labCodeSystem, loadTerminology, parameters, VS } from '../../resources/terminology/fixtures';

const stores: [string, () => Promise<TestApp>][] = [
  ['SQLite', () => startTestApp()],
  ['MongoDB', () => startTestApp({ store: new MongoStore(new MingoDatabase()) })],
];

const codes = (body: ValueSet) => (body.expansion?.contains ?? []).map((c) => c.code);
const q = encodeURIComponent;

describe.each(stores)('$expand on %s', (_name, start) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await start();
    await loadTerminology(t);
  });
  afterAll(() => t.close());

  const expand = (query: string) => t.api().get(`/fhir/ValueSet/$expand?${query}`);
  const expandPost = (body: Record<string, unknown>) =>
    t.api().post('/fhir/ValueSet/$expand').set('Content-Type', 'application/fhir+json').send(body);

  test('a stored value set over a whole code system: every code in definition order, with total and offset', async () => {
    const res = await expand(`url=${q(VS('lab-all'))}`);
    expect(res.status).toBe(200);
    expect(res.body.resourceType).toBe('ValueSet');
    expect(codes(res.body)).toEqual(['CHEM', 'GLU', 'GLU-F', 'NA', 'HEM', 'HGB', 'HBA1C', 'OLD', 'UA']);
    expect(res.body.expansion.total).toBe(9);
    expect(res.body.expansion.offset).toBe(0);
    expect(res.body.expansion.timestamp).toMatch(/^\d{4}-\d\d-\d\dT/);
    const chem = res.body.expansion.contains[0];
    expect(chem).toEqual({ system: LAB, version: '2', code: 'CHEM', display: 'Chemistry', abstract: true });
    expect(res.body.expansion.contains.find((c: { code: string }) => c.code === 'GLU-F').inactive).toBe(true);
  });

  test('typeahead does not write an AuditEvent per keystroke: once the value set is found, checking it is internal', async () => {
    expect((await expand(`url=${q(VS('lab-all'))}&filter=g`)).status).toBe(200);
    // Writes stamped up to 5 s before a lookup may still land after it (clocks of other nodes): until the
    // terminology is that old, each lookup searches again (and that search is audited).
    await new Promise((resolve) => setTimeout(resolve, 5100));
    expect((await expand(`url=${q(VS('lab-all'))}&filter=gl`)).status).toBe(200);
    const since = Date.now();
    for (const filter of ['glu', 'gluc', 'gluco']) {
      expect((await expand(`url=${q(VS('lab-all'))}&filter=${filter}`)).status).toBe(200);
    }
    expect((await t.services.store.searchAudit({ since, count: 1000 })).entries).toEqual([]);
  }, 20_000);

  test('the POST form with a Parameters body answers as the GET form does', async () => {
    const get = await expand(`url=${q(VS('lab-all'))}&filter=hemo&count=5`);
    const post = await expandPost(
      parameters(
        ['url', { valueUri: VS('lab-all') }],
        ['filter', { valueString: 'hemo' }],
        ['count', { valueInteger: 5 }],
      ),
    );
    expect(post.status).toBe(200);
    expect(codes(post.body)).toEqual(codes(get.body));
    expect(post.body.expansion.parameter).toEqual(get.body.expansion.parameter);
  });

  test('instance level: ValueSet/[id]/$expand, GET and POST', async () => {
    const get = await t.api().get('/fhir/ValueSet/chemistry/$expand');
    expect(get.status).toBe(200);
    expect(get.body.id).toBe('chemistry');
    const post = await t
      .api()
      .post('/fhir/ValueSet/chemistry/$expand')
      .set('Content-Type', 'application/fhir+json')
      .send(parameters(['filter', { valueString: 'sod' }]));
    expect(codes(post.body)).toEqual(['NA']);
    expect((await t.api().get('/fhir/ValueSet/nope/$expand')).status).toBe(404);
  });

  test('the total counts what is left after compose.exclude (is-a CHEM minus GLU-F)', async () => {
    const res = await expand(`url=${q(VS('chemistry'))}`);
    expect(codes(res.body)).toEqual(['CHEM', 'GLU', 'NA', 'HBA1C']);
    expect(res.body.expansion.total).toBe(4);
  });

  test('compose filters: descendent-of, = on a property, in, regex; is-a follows parent properties', async () => {
    expect(codes((await expand(`url=${q(VS('below-hem'))}`)).body)).toEqual(['HGB', 'HBA1C']);
    expect(codes((await expand(`url=${q(VS('ordinal'))}`)).body)).toEqual(['UA']);
    expect(codes((await expand(`url=${q(VS('picked'))}`)).body)).toEqual(['NA', 'UA']);
    expect(codes((await expand(`url=${q(VS('h-codes'))}`)).body)).toEqual(['HEM', 'HGB', 'HBA1C']);
  });

  test('typeahead: word prefixes of the display or code, case and accents ignored, exact code first', async () => {
    const glu = await expand(`url=${q(VS('lab-all'))}&filter=glu`);
    expect(codes(glu.body)).toEqual(['GLU', 'GLU-F', 'OLD']);
    expect(codes((await expand(`url=${q(VS('lab-all'))}&filter=HEMATOL`)).body)).toEqual(['HEM']);
    expect(codes((await expand(`url=${q(VS('lab-all'))}&filter=${q('hemo blo')}`)).body)).toEqual(['HGB', 'HBA1C']);
    expect(codes((await expand(`url=${q(VS('lab-all'))}&filter=lobin`)).body)).toEqual([]);
    expect(codes((await expand(`url=${q(VS('lab-all'))}&filter=hba`)).body)).toEqual(['HBA1C']);
  });

  test('the display a value set gives a code wins, and the filter matches it', async () => {
    const res = await expand(`url=${q(VS('mixed'))}&filter=sugar`);
    expect(res.body.expansion.contains).toEqual([{ system: LAB, version: '2', code: 'GLU', display: 'Blood sugar' }]);
  });

  test('offset applies after the filter, and total is the filtered count', async () => {
    const all = await expand(`url=${q(VS('lab-all'))}&filter=glu`);
    const second = await expand(`url=${q(VS('lab-all'))}&filter=glu&offset=1&count=1`);
    expect(codes(second.body)).toEqual([codes(all.body)[1]]);
    expect(second.body.expansion.total).toBe(3);
    expect(second.body.expansion.offset).toBe(1);
    expect(second.body.expansion.parameter).toEqual([
      { name: 'filter', valueString: 'glu' },
      { name: 'offset', valueInteger: 1 },
      { name: 'count', valueInteger: 1 },
    ]);
  });

  test('activeOnly drops inactive and retired codes before the total and the page', async () => {
    const res = await expand(`url=${q(VS('lab-all'))}&activeOnly=true&filter=glu`);
    expect(codes(res.body)).toEqual(['GLU']);
    expect(res.body.expansion.total).toBe(1);
    const paged = await expand(`url=${q(VS('lab-all'))}&activeOnly=true&offset=6`);
    expect(paged.body.expansion.total).toBe(7);
    expect(codes(paged.body)).toEqual(['UA']);
  });

  test('excludeNotForUI drops abstract codes; includeDesignations adds designations', async () => {
    const ui = await expand(`url=${q(VS('chemistry'))}&excludeNotForUI=true`);
    expect(codes(ui.body)).toEqual(['GLU', 'NA', 'HBA1C']);
    const designations = await expand(`url=${q(VS('lab-all'))}&filter=sodium&includeDesignations=true`);
    expect(designations.body.expansion.contains[0].designation).toEqual([{ language: 'fr', value: 'Sodium sérique' }]);
  });

  test('a default count of 100 bounds an expansion; count=0 gives the size only; above 1000 is a 400', async () => {
    const first = await expand(`url=${q(VS('bulk'))}`);
    expect(first.body.expansion.total).toBe(1500);
    expect(first.body.expansion.contains).toHaveLength(100);
    const last = await expand(`url=${q(VS('bulk'))}&offset=1400&count=1000`);
    expect(last.body.expansion.contains).toHaveLength(100);
    expect(last.body.expansion.contains[99].code).toBe('B1499');
    const size = await expand(`url=${q(VS('bulk'))}&count=0`);
    expect(size.body.expansion.total).toBe(1500);
    expect(size.body.expansion.contains).toBeUndefined();
    const tooMany = await expand(`url=${q(VS('bulk'))}&count=1001`);
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.issue[0].code).toBe('too-costly');
  });

  test('typeahead over 1,500 codes: the total counts every match, however early the page is full', async () => {
    const bulk = await expand(`url=${q(VS('bulk'))}&filter=bulk&count=5`);
    expect(bulk.body.expansion.total).toBe(1500);
    expect(codes(bulk.body)).toEqual(['B0', 'B1', 'B2', 'B3', 'B4']);
    const byCode = await expand(`url=${q(VS('bulk'))}&filter=b1&count=3`);
    expect(byCode.body.expansion.total).toBe(611);
    expect(codes(byCode.body)).toEqual(['B1', 'B10', 'B11']);
    const secondWord = await expand(`url=${q(VS('bulk'))}&filter=${q('number 149')}&offset=9&count=5`);
    expect(secondWord.body.expansion.total).toBe(11);
    expect(codes(secondWord.body)).toEqual(['B1498', 'B1499']);
  });

  test('built-in R4 value sets and implicit value sets expand', async () => {
    const gender = await expand(`url=${q('http://hl7.org/fhir/ValueSet/administrative-gender')}`);
    expect(codes(gender.body)).toEqual(['male', 'female', 'other', 'unknown']);
    const mixed = await expand(`url=${q(VS('mixed'))}`);
    expect(codes(mixed.body)).toEqual(['GLU', 'HGB', 'male', 'female', 'other', 'unknown']);
    const implicit = await expand(`url=${q(`${LAB}?fhir_vs=isa/HEM`)}`);
    expect(codes(implicit.body)).toEqual(['HEM', 'HGB', 'HBA1C']);
    const whole = await expand(`url=${q(`${BULK}?fhir_vs`)}&count=0`);
    expect(whole.body.expansion.total).toBe(1500);
  });

  test('a value set sent in the POST body expands without being stored', async () => {
    const valueSet: ValueSet = {
      resourceType: 'ValueSet',
      status: 'active',
      compose: { include: [{ system: LAB, filter: [{ property: 'concept', op: 'is-a', value: 'HEM' }] }] },
    };
    const res = await expandPost(parameters(['valueSet', { resource: valueSet }], ['filter', { valueString: 'a1c' }]));
    expect(res.status).toBe(200);
    expect(codes(res.body)).toEqual(['HBA1C']);
  });

  test('a stored value set with the url of a built-in one wins over it', async () => {
    const url = 'http://hl7.org/fhir/ValueSet/administrative-gender';
    const local: ValueSet = {
      resourceType: 'ValueSet',
      url,
      status: 'active',
      compose: { include: [{ system: 'http://hl7.org/fhir/administrative-gender', concept: [{ code: 'other' }] }] },
    };
    const created = await t.api().post('/fhir/ValueSet').set('Content-Type', 'application/fhir+json').send(local);
    expect(created.status).toBe(201);
    expect(codes((await expand(`url=${q(url)}`)).body)).toEqual(['other']);
    await t.api().delete(`/fhir/ValueSet/${created.body.id}`);
    expect(codes((await expand(`url=${q(url)}`)).body)).toHaveLength(4);
  });

  test('an update of a stored code system is seen by the next expansion (no stale index)', async () => {
    const url = `url=${q(VS('lab-all'))}&filter=zinc`;
    expect(codes((await expand(url)).body)).toEqual([]);
    const updated = { ...labCodeSystem, concept: [...(labCodeSystem.concept ?? []), { code: 'ZN', display: 'Zinc' }] };
    const put = await t
      .api()
      .put('/fhir/CodeSystem/lab-local')
      .set('Content-Type', 'application/fhir+json')
      .send(updated);
    expect(put.status).toBe(200);
    expect(codes((await expand(url)).body)).toEqual(['ZN']);
    await t.api().put('/fhir/CodeSystem/lab-local').set('Content-Type', 'application/fhir+json').send(labCodeSystem);
    expect(codes((await expand(url)).body)).toEqual([]);
  });

  test.each([
    ['no value set named', '', 400, 'url'],
    ['an unknown value set url', `url=${q(VS('missing'))}`, 404, 'missing'],
    ['a negative count', `url=${q(VS('lab-all'))}&count=-1`, 400, 'count'],
    ['a count that is not a number', `url=${q(VS('lab-all'))}&count=ten`, 400, 'count'],
    ['a negative offset', `url=${q(VS('lab-all'))}&offset=-5`, 400, 'offset'],
    ['activeOnly that is not a boolean', `url=${q(VS('lab-all'))}&activeOnly=yes`, 400, 'activeOnly'],
    ['a code system the server has no concepts of', `url=${q(VS('snomed'))}`, 400, 'http://snomed.info/sct'],
    ['an unsupported parameter', `url=${q(VS('lab-all'))}&context=x`, 400, 'context'],
    ['a repeated parameter', `url=${q(VS('lab-all'))}&filter=a&filter=b`, 400, 'filter'],
    ['an unsupported implicit value set', `url=${q(`${LAB}?fhir_vs=refset/1`)}`, 400, 'fhir_vs'],
  ])('%s is a precise 4xx', async (_case, query, status, mentioned) => {
    const res = await expand(query);
    expect(res.status).toBe(status);
    expect(res.body.resourceType).toBe('OperationOutcome');
    expect(JSON.stringify(res.body.issue)).toContain(mentioned);
  });

  test('an unsupported filter operator (only possible in a value set sent inline) is a 400 naming it', async () => {
    const valueSet = {
      resourceType: 'ValueSet',
      status: 'active',
      compose: { include: [{ system: LAB, filter: [{ property: 'concept', op: 'child-of', value: 'CHEM' }] }] },
    };
    const res = await expandPost(parameters(['valueSet', { resource: valueSet }]));
    expect(res.status).toBe(400);
    expect(res.body.issue[0].diagnostics).toContain('"child-of" is not supported');
  });

  test('bad POST bodies and wrong types are 4xx', async () => {
    expect((await expandPost({ resourceType: 'Patient' })).status).toBe(400);
    const twice = await expandPost(
      parameters(['url', { valueUri: VS('lab-all') }], ['valueSet', { resource: { resourceType: 'ValueSet' } }]),
    );
    expect(twice.status).toBe(400);
    const notAValueSet = await expandPost(parameters(['valueSet', { resource: { resourceType: 'CodeSystem' } }]));
    expect(notAValueSet.status).toBe(400);
    const wrongType = await expandPost(
      parameters(['url', { valueUri: VS('lab-all') }], ['count', { valueString: '5' }]),
    );
    expect(wrongType.status).toBe(400);
    expect((await t.api().get(`/fhir/Patient/$expand?url=${q(VS('lab-all'))}`)).status).toBe(404);
  });
});
