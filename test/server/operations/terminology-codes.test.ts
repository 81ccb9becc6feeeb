// CodeSystem/$lookup, ValueSet/$validate-code, CodeSystem/$validate-code and CodeSystem/$subsumes end to end
// over HTTP, GET and POST forms, on SQLite and on the MongoDB adapter, over stored and built-in terminology.
import { MongoStore } from '../../../resources/store/mongo/mongo-store';
import { startTestApp, type TestApp } from '../../support/app';
import { MingoDatabase } from '../../support/mingo-database';
import { CASELESS, LAB, loadTerminology, output, parameters, VS } from '../../resources/terminology/fixtures';

const stores: [string, () => Promise<TestApp>][] = [
  ['SQLite', () => startTestApp()],
  ['MongoDB', () => startTestApp({ store: new MongoStore(new MingoDatabase()) })],
];

const q = encodeURIComponent;
const V3_ACT_CODE = 'http://terminology.hl7.org/CodeSystem/v3-ActCode';

describe.each(stores)('terminology code operations on %s', (_name, start) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await start();
    await loadTerminology(t);
  });
  afterAll(() => t.close());

  const get = (path: string) => t.api().get(`/fhir/${path}`);
  const post = (path: string, body: Record<string, unknown>) =>
    t.api().post(`/fhir/${path}`).set('Content-Type', 'application/fhir+json').send(body);
  const properties = (body: { parameter: { name: string; part?: { name: string }[] }[] }) =>
    body.parameter
      .filter((p) => p.name === 'property')
      .map((p) =>
        Object.fromEntries((p.part ?? []).map((part) => [part.name, output({ parameter: [part] }, part.name)])),
      );

  describe('$lookup', () => {
    test('system + code (GET): name, version, display, designation and hierarchy properties', async () => {
      const res = await get(`CodeSystem/$lookup?system=${q(LAB)}&code=NA`);
      expect(res.status).toBe(200);
      expect(output(res.body, 'name')).toBe('LabLocal');
      expect(output(res.body, 'version')).toBe('2');
      expect(output(res.body, 'display')).toBe('Sodium [Moles/volume] in Serum');
      const designation = res.body.parameter.find((p: { name: string }) => p.name === 'designation');
      expect(designation.part).toEqual([
        { name: 'language', valueCode: 'fr' },
        { name: 'value', valueString: 'Sodium sérique' },
      ]);
      expect(properties(res.body)).toEqual([
        { code: 'definition', value: 'Sodium concentration in serum' },
        { code: 'parent', value: 'CHEM' },
        { code: 'inactive', value: false },
        { code: 'scale', value: 'Qn' },
      ]);
    });

    test('coding (POST) with property filter; parents from nesting and from the parent property', async () => {
      const res = await post(
        'CodeSystem/$lookup',
        parameters(
          ['coding', { valueCoding: { system: LAB, code: 'HBA1C' } }],
          ['property', { valueCode: 'parent' }],
          ['property', { valueCode: 'child' }],
        ),
      );
      expect(res.status).toBe(200);
      expect(properties(res.body)).toEqual([
        { code: 'parent', value: 'HEM' },
        { code: 'parent', value: 'CHEM' },
      ]);
      const chem = await get(`CodeSystem/$lookup?coding=${q(`${LAB}|CHEM`)}&property=child`);
      expect(properties(chem.body).map((p) => p.value)).toEqual(['GLU', 'GLU-F', 'NA', 'HBA1C']);
    });

    test('built-in R4 content: a v3 ActCode concept and its parent', async () => {
      const res = await get(`CodeSystem/$lookup?system=${q(V3_ACT_CODE)}&code=AMB&property=parent`);
      expect(res.status).toBe(200);
      expect(output(res.body, 'display')).toBe('ambulatory');
      expect(properties(res.body)).toEqual([{ code: 'parent', value: '_ActEncounterCode' }]);
    });

    test('status: inactive through the inactive property and through status retired', async () => {
      const inactive = async (code: string) =>
        properties((await get(`CodeSystem/$lookup?system=${q(LAB)}&code=${code}&property=inactive`)).body)[0].value;
      expect(await inactive('GLU-F')).toBe(true);
      expect(await inactive('OLD')).toBe(true);
      expect(await inactive('GLU')).toBe(false);
    });

    test.each([
      ['no system', 'CodeSystem/$lookup?code=NA', 400, 'system'],
      ['neither code nor coding', `CodeSystem/$lookup?system=${q(LAB)}`, 400, 'code'],
      ['an unknown code system', `CodeSystem/$lookup?system=${q('http://nowhere.example/cs')}&code=1`, 400, 'nowhere'],
      [
        'SNOMED CT, which the server has no concepts of',
        `CodeSystem/$lookup?system=${q('http://snomed.info/sct')}&code=1`,
        400,
        'snomed',
      ],
      ['an unknown code', `CodeSystem/$lookup?system=${q(LAB)}&code=NOPE`, 404, 'NOPE'],
      ['a code in the wrong case of a case-sensitive system', `CodeSystem/$lookup?system=${q(LAB)}&code=na`, 404, 'na'],
      ['a malformed coding', 'CodeSystem/$lookup?coding=justacode', 400, 'coding'],
      ['the operation on another type', `Patient/$lookup?system=${q(LAB)}&code=NA`, 404, 'CodeSystem'],
    ])('%s is a precise 4xx', async (_case, path, status, mentioned) => {
      const res = await get(path);
      expect(res.status).toBe(status);
      expect(JSON.stringify(res.body.issue)).toContain(mentioned);
    });

    test('a case-insensitive code system finds a code in any case', async () => {
      const res = await get(`CodeSystem/$lookup?system=${q(CASELESS)}&code=abc`);
      expect(res.status).toBe(200);
      expect(output(res.body, 'display')).toBe('Alpha beta');
    });
  });

  describe('ValueSet/$validate-code', () => {
    const validate = (query: string) => get(`ValueSet/$validate-code?url=${q(VS('chemistry'))}&${query}`);

    test('a code in the value set: result true and its display', async () => {
      const res = await validate(`system=${q(LAB)}&code=GLU`);
      expect(res.status).toBe(200);
      expect(output(res.body, 'result')).toBe(true);
      expect(output(res.body, 'display')).toBe('Glucose [Mass/volume] in Serum');
      expect(output(res.body, 'message')).toBeUndefined();
    });

    test('a code of the system that the value set excludes or does not include: result false with a message', async () => {
      for (const code of ['GLU-F', 'HGB', 'NOPE']) {
        const res = await validate(`system=${q(LAB)}&code=${code}`);
        expect(output(res.body, 'result')).toBe(false);
        expect(output(res.body, 'message')).toContain(code);
      }
    });

    test('a wrong display keeps result true and says so in message; a matching one in another case is fine', async () => {
      const wrong = await validate(`system=${q(LAB)}&code=NA&display=${q('Potassium')}`);
      expect(output(wrong.body, 'result')).toBe(true);
      expect(output(wrong.body, 'message')).toContain('Potassium');
      expect(output(wrong.body, 'message')).toContain('Sodium [Moles/volume] in Serum');
      const designation = await validate(`system=${q(LAB)}&code=NA&display=${q('sodium serique')}`);
      expect(output(designation.body, 'message')).toBeUndefined();
    });

    test('coding and codeableConcept (POST): true when any coding is in the value set', async () => {
      const coding = await post(
        'ValueSet/$validate-code',
        parameters(['url', { valueUri: VS('chemistry') }], ['coding', { valueCoding: { system: LAB, code: 'NA' } }]),
      );
      expect(output(coding.body, 'result')).toBe(true);
      const concept = await post(
        'ValueSet/$validate-code',
        parameters(
          ['url', { valueUri: VS('chemistry') }],
          [
            'codeableConcept',
            {
              valueCodeableConcept: {
                coding: [
                  { system: LAB, code: 'HGB' },
                  { system: LAB, code: 'GLU' },
                ],
              },
            },
          ],
        ),
      );
      expect(output(concept.body, 'result')).toBe(true);
      expect(output(concept.body, 'display')).toBe('Glucose [Mass/volume] in Serum');
      const none = await post(
        'ValueSet/$validate-code',
        parameters(
          ['url', { valueUri: VS('chemistry') }],
          ['codeableConcept', { valueCodeableConcept: { coding: [{ system: LAB, code: 'HGB' }] } }],
        ),
      );
      expect(output(none.body, 'result')).toBe(false);
    });

    test('abstract codes are valid unless abstract=false; inactive codes are valid with a message', async () => {
      expect(output((await validate(`system=${q(LAB)}&code=CHEM`)).body, 'result')).toBe(true);
      expect(output((await validate(`system=${q(LAB)}&code=CHEM&abstract=false`)).body, 'result')).toBe(false);
      const old = await get(`ValueSet/$validate-code?url=${q(VS('lab-all'))}&system=${q(LAB)}&code=OLD`);
      expect(output(old.body, 'result')).toBe(true);
      expect(output(old.body, 'message')).toContain('inactive');
    });

    test('case sensitivity follows CodeSystem.caseSensitive', async () => {
      expect(output((await validate(`system=${q(LAB)}&code=glu`)).body, 'result')).toBe(false);
      const caseless = await get(`ValueSet/$validate-code?url=${q(VS('caseless'))}&system=${q(CASELESS)}&code=abc-1`);
      expect(output(caseless.body, 'result')).toBe(true);
      expect(output(caseless.body, 'message')).toContain('ABC-1');
    });

    test('a code without a system is checked in a single-system value set, refused in a mixed one', async () => {
      expect(output((await validate('code=NA')).body, 'result')).toBe(true);
      const mixed = await get(`ValueSet/$validate-code?url=${q(VS('mixed'))}&code=male`);
      expect(mixed.status).toBe(400);
    });

    test('instance level and built-in value sets', async () => {
      const instance = await get(`ValueSet/chemistry/$validate-code?system=${q(LAB)}&code=NA`);
      expect(output(instance.body, 'result')).toBe(true);
      const gender = await get(
        `ValueSet/$validate-code?url=${q('http://hl7.org/fhir/ValueSet/administrative-gender')}` +
          `&system=${q('http://hl7.org/fhir/administrative-gender')}&code=female`,
      );
      expect(output(gender.body, 'result')).toBe(true);
    });

    test.each([
      ['no code', `url=${q(VS('chemistry'))}`, 400],
      ['code and coding together', `url=${q(VS('chemistry'))}&code=NA&coding=${q(`${LAB}|NA`)}`, 400],
      ['an unknown value set', `url=${q(VS('missing'))}&code=NA&system=${q(LAB)}`, 404],
      ['a codeableConcept on the URL', `url=${q(VS('chemistry'))}&codeableConcept=x`, 400],
      ['a bad abstract flag', `url=${q(VS('chemistry'))}&code=NA&system=${q(LAB)}&abstract=maybe`, 400],
    ])('%s is a 4xx', async (_case, query, status) => {
      const res = await get(`ValueSet/$validate-code?${query}`);
      expect(res.status).toBe(status);
      expect(res.body.resourceType).toBe('OperationOutcome');
    });

    test('a malformed coding or codeableConcept in a POST body is a 400', async () => {
      const noCode = await post(
        'ValueSet/$validate-code',
        parameters(['url', { valueUri: VS('chemistry') }], ['coding', { valueCoding: { system: LAB } }]),
      );
      expect(noCode.status).toBe(400);
      const empty = await post(
        'ValueSet/$validate-code',
        parameters(
          ['url', { valueUri: VS('chemistry') }],
          ['codeableConcept', { valueCodeableConcept: { text: 'x' } }],
        ),
      );
      expect(empty.status).toBe(400);
    });
  });

  describe('CodeSystem/$validate-code', () => {
    test('url + code, instance level, coding whose system names the code system, and an inline code system', async () => {
      const byUrl = await get(
        `CodeSystem/$validate-code?url=${q(LAB)}&code=HGB&display=${q('hemoglobin [mass/volume] in blood')}`,
      );
      expect(output(byUrl.body, 'result')).toBe(true);
      expect(output(byUrl.body, 'message')).toBeUndefined();
      const instance = await get('CodeSystem/lab-local/$validate-code?code=NOPE');
      expect(output(instance.body, 'result')).toBe(false);
      const coding = await post(
        'CodeSystem/$validate-code',
        parameters(['coding', { valueCoding: { system: LAB, code: 'UA' } }]),
      );
      expect(output(coding.body, 'result')).toBe(true);
      const inline = await post(
        'CodeSystem/$validate-code',
        parameters(
          [
            'codeSystem',
            {
              resource: {
                resourceType: 'CodeSystem',
                url: 'urn:x',
                status: 'active',
                content: 'complete',
                concept: [{ code: 'a' }],
              },
            },
          ],
          ['code', { valueCode: 'a' }],
        ),
      );
      expect(output(inline.body, 'result')).toBe(true);
    });

    test('a coding of another system, a wrong-case code and a wrong display', async () => {
      const other = await post(
        'CodeSystem/$validate-code',
        parameters(['url', { valueUri: LAB }], ['coding', { valueCoding: { system: CASELESS, code: 'ABC' } }]),
      );
      expect(output(other.body, 'result')).toBe(false);
      const wrongCase = await get(`CodeSystem/$validate-code?url=${q(LAB)}&code=hgb`);
      expect(output(wrongCase.body, 'result')).toBe(false);
      expect(output(wrongCase.body, 'message')).toContain('case sensitive');
      const display = await get(`CodeSystem/$validate-code?url=${q(LAB)}&code=HGB&display=Glucose`);
      expect(output(display.body, 'result')).toBe(true);
      expect(output(display.body, 'message')).toContain('Glucose');
    });

    test('no code system named is a 400; an unknown one is a 400 naming it', async () => {
      expect((await get('CodeSystem/$validate-code?code=x')).status).toBe(400);
      const rxnorm = 'http://www.nlm.nih.gov/research/umls/rxnorm';
      const unknown = await get(`CodeSystem/$validate-code?url=${q(rxnorm)}&code=1049502`);
      expect(unknown.status).toBe(400);
      expect(unknown.body.issue[0].diagnostics).toContain(rxnorm);
    });
  });

  describe('$subsumes', () => {
    const subsumes = async (query: string) => {
      const res = await get(`CodeSystem/$subsumes?${query}`);
      expect(res.status).toBe(200);
      return output(res.body, 'outcome');
    };

    test('equivalent (reflexive), subsumes, subsumed-by and not-subsumed, over nesting and parent properties', async () => {
      const system = `system=${q(LAB)}`;
      expect(await subsumes(`${system}&codeA=GLU&codeB=GLU`)).toBe('equivalent');
      expect(await subsumes(`${system}&codeA=CHEM&codeB=GLU`)).toBe('subsumes');
      expect(await subsumes(`${system}&codeA=GLU&codeB=CHEM`)).toBe('subsumed-by');
      expect(await subsumes(`${system}&codeA=HEM&codeB=HBA1C`)).toBe('subsumes');
      expect(await subsumes(`${system}&codeA=CHEM&codeB=HBA1C`)).toBe('subsumes');
      expect(await subsumes(`${system}&codeA=HGB&codeB=GLU`)).toBe('not-subsumed');
    });

    test('codings (POST), the instance level, a case-insensitive system and built-in v3 content', async () => {
      const res = await post(
        'CodeSystem/$subsumes',
        parameters(
          ['codingA', { valueCoding: { system: LAB, code: 'HEM' } }],
          ['codingB', { valueCoding: { system: LAB, code: 'HGB' } }],
        ),
      );
      expect(output(res.body, 'outcome')).toBe('subsumes');
      const instance = await t.api().get('/fhir/CodeSystem/lab-local/$subsumes?codeA=HGB&codeB=HEM');
      expect(output(instance.body, 'outcome')).toBe('subsumed-by');
      expect(await subsumes(`system=${q(CASELESS)}&codeA=abc&codeB=ABC`)).toBe('equivalent');
      expect(await subsumes(`system=${q(V3_ACT_CODE)}&codeA=_ActEncounterCode&codeB=AMB`)).toBe('subsumes');
    });

    test.each([
      ['no system', 'codeA=GLU&codeB=CHEM', 'system'],
      ['codeA missing', `system=${q(LAB)}&codeB=CHEM`, 'codeA'],
      ['an unknown code', `system=${q(LAB)}&codeA=GLU&codeB=NOPE`, 'NOPE'],
      ['codings of two systems', `codingA=${q(`${LAB}|GLU`)}&codingB=${q(`${CASELESS}|ABC`)}`, 'across'],
      ['an unknown system', `system=${q('http://nowhere.example')}&codeA=a&codeB=b`, 'nowhere'],
    ])('%s is a 400 naming the problem', async (_case, query, mentioned) => {
      const res = await get(`CodeSystem/$subsumes?${query}`);
      expect(res.status).toBe(400);
      expect(JSON.stringify(res.body.issue)).toContain(mentioned);
    });
  });
});
