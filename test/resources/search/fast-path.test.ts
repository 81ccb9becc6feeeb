import { compileFastPath, type FastEvaluator } from '../../../resources/search/fast-path';

const compile = (...terms: string[]): FastEvaluator => {
  const evaluator = compileFastPath(terms);
  if (!evaluator) {
    throw new Error(`not a fast path: ${terms.join(' | ')}`);
  }
  return evaluator;
};

const observation = {
  resourceType: 'Observation',
  meta: { tag: [{ code: 't1' }, { code: 't2' }], profile: ['http://x/p'] },
  status: 'final',
  code: { text: 'BP' },
  subject: { reference: 'Patient/1' },
  performer: [{ reference: 'Practitioner/2' }, null, { type: 'Patient', identifier: { value: 'x' } }],
  valueQuantity: { value: 120, unit: 'mmHg' },
  component: [
    { code: { text: 'systolic' }, valueQuantity: { value: 120 } },
    { code: { text: 'note' }, valueString: 'high' },
  ],
};

describe('compileFastPath', () => {
  it('walks elements, flattening repeats, typing each value from the model', () => {
    expect(compile('Observation.component.code')(observation)).toEqual([
      { data: { text: 'systolic' }, fhirNodeDataType: 'CodeableConcept', path: 'Observation.component.code' },
      { data: { text: 'note' }, fhirNodeDataType: 'CodeableConcept', path: 'Observation.component.code' },
    ]);
    expect(compile('Observation.status')(observation)).toEqual([
      { data: 'final', fhirNodeDataType: 'code', path: 'Observation.status' },
    ]);
  });

  it('reads choice elements under their typed keys, and ofType() selects among them', () => {
    expect(compile('Observation.value')(observation)).toEqual([
      { data: { value: 120, unit: 'mmHg' }, fhirNodeDataType: 'Quantity', path: 'Observation.valueQuantity' },
    ]);
    expect(compile('Observation.component.value.ofType(string)')(observation).map((n) => n.data)).toEqual(['high']);
    expect(compile('Observation.value.ofType(CodeableConcept).text')(observation)).toEqual([]);
  });

  it('selects by a FHIRPath System type the FHIR primitives fhirpath.js converts to it', () => {
    const dated = { resourceType: 'Observation', valueDateTime: '2020-01-01', issued: '2020-01-02T00:00:00Z' };
    expect(compile('Observation.value.ofType(DateTime)')(dated).map((n) => n.data)).toEqual(['2020-01-01']);
    expect(compile('Observation.issued.ofType(DateTime)')(dated).map((n) => n.data)).toEqual(['2020-01-02T00:00:00Z']);
    expect(compile('Observation.component.value.ofType(String)')(observation).map((n) => n.data)).toEqual(['high']);
    expect(compile('Observation.value.ofType(Boolean)')(dated)).toEqual([]);
  });

  it('finds inherited elements (Resource.meta, DomainResource.text, Element.id)', () => {
    expect(compile('Resource.meta.tag')(observation).map((n) => n.data)).toEqual([{ code: 't1' }, { code: 't2' }]);
    expect(compile('Observation.meta.profile')(observation)[0].fhirNodeDataType).toBe('canonical');
    expect(compile('Observation.component.id')({ ...observation, component: [{ id: 'c1' }] })[0]).toMatchObject({
      data: 'c1',
      fhirNodeDataType: 'System.String',
    });
  });

  it('follows elements defined elsewhere (Questionnaire.item.item)', () => {
    const questionnaire = { resourceType: 'Questionnaire', item: [{ linkId: '1', item: [{ linkId: '1.1' }] }] };
    expect(compile('Questionnaire.item.item.linkId')(questionnaire).map((n) => n.data)).toEqual(['1.1']);
  });

  it('types a contained resource by its resourceType', () => {
    const bundle = { resourceType: 'Bundle', entry: [{ resource: { resourceType: 'Patient', id: 'p' } }] };
    expect(compile('Bundle.entry.resource')(bundle)[0].fhirNodeDataType).toBe('Patient');
  });

  it('applies the where() filters: reference targets and literal comparisons', () => {
    const references = compile("Observation.performer.where(hmsReferenceTo('Patient'))", 'Observation.subject');
    expect(references(observation).map((n) => n.data)).toEqual([
      { type: 'Patient', identifier: { value: 'x' } },
      { reference: 'Patient/1' },
    ]);
    const patient = {
      resourceType: 'Patient',
      telecom: [
        { system: 'phone', value: '1' },
        { system: 'email', value: 'a@b' },
      ],
    };
    expect(compile("Patient.telecom.where(system='phone')")(patient).map((n) => n.data)).toEqual([
      { system: 'phone', value: '1' },
    ]);
    const both = compile("Patient.telecom.where(system='phone').where(hmsReferenceTo('Patient'))");
    expect(both(patient)).toEqual([]);
  });

  it('does not walk into values that are not objects', () => {
    expect(compile('Observation.code.text')({ resourceType: 'Observation', code: 'not an object' })).toEqual([]);
  });

  it('returns the resource itself for a bare type, and nothing for another type', () => {
    expect(compile('Observation')(observation)).toEqual([
      { data: observation, fhirNodeDataType: 'Observation', path: 'Observation' },
    ]);
    expect(compile('Patient')(observation)).toEqual([]);
    expect(compile('Patient.name')(observation)).toEqual([]);
  });

  it('evaluates relative paths on a node, in the context of its element or type', () => {
    const [first] = compile('Observation.component')(observation);
    expect(compile('code.text')(first).map((n) => n.data)).toEqual(['systolic']);
    expect(compile('value.ofType(Quantity)')(first)[0].fhirNodeDataType).toBe('Quantity');
    const [quantity] = compile('Observation.value')(observation);
    expect(compile('unit')(quantity).map((n) => n.data)).toEqual(['mmHg']);
    expect(compile('code')({ resourceType: 'Observation', code: { text: 'x' } })).toHaveLength(1);
    expect(compile('code')('just a string')).toEqual([]);
  });

  it('evaluates %resource paths from the environment', () => {
    const sequence = { resourceType: 'MolecularSequence', referenceSeq: { chromosome: { text: '1' } } };
    const chromosome = compile('%resource.referenceSeq.chromosome');
    expect(chromosome({}, { resource: sequence })).toEqual([
      {
        data: { text: '1' },
        fhirNodeDataType: 'CodeableConcept',
        path: 'MolecularSequence.referenceSeq.chromosome',
      },
    ]);
    expect(chromosome({}, {})).toEqual([]);
  });

  it.each([
    ['Observation.code.exists()'],
    ['Bundle.entry[0].resource'],
    ['Observation.value.ofType(FHIR.Quantity)'],
    ['Observation.nope'],
    ['Observation.status.extension'],
    ['Bundle.entry.resource.id'],
    ['Observation.ofType(Quantity)'],
    ["Patient.telecom.where(system='a.b')"],
    ['%resource'],
    ['Observation.code | Observation.code.coding.first()'],
  ])('leaves %s to fhirpath.js', (expression) => {
    expect(compileFastPath(expression.split(' | '))).toBeUndefined();
  });

  it('gives nothing for an empty union', () => {
    expect(compileFastPath([])).toBeUndefined();
  });
});
