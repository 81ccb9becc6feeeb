// The fuzzers' oracle must itself be right: it refuses 5xx answers, 4xx answers without an OperationOutcome, 5xx
// batch entries and counts that moved without an acknowledgement, and accepts the documented shapes.
import {
  checkAnswer,
  checkBundleEntries,
  createdByBundle,
  expectCountsMoved,
  type Answer,
  type FuzzRequest,
} from './harness';

const GET: FuzzRequest = { method: 'GET', path: '/fhir/Patient' };
const FHIR_TYPE = { 'content-type': 'application/fhir+json; charset=utf-8' };
const OUTCOME = JSON.stringify({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'invalid' }] });

const answer = (status: number, text: string, headers: Answer['headers'] = FHIR_TYPE): Answer => ({
  status,
  headers,
  text,
});

test('documented shapes pass', () => {
  expect(() => checkAnswer(GET, answer(200, '{"resourceType":"Bundle"}'))).not.toThrow();
  expect(() => checkAnswer(GET, answer(204, ''))).not.toThrow();
  expect(() => checkAnswer(GET, answer(400, OUTCOME))).not.toThrow();
  expect(() => checkAnswer(GET, answer(406, OUTCOME))).not.toThrow();
  expect(() => checkAnswer(GET, answer(431, '', {}))).not.toThrow();
  const conditional = { ...GET, headers: { 'If-None-Match': 'W/"1"' } };
  expect(() => checkAnswer(conditional, answer(304, ''))).not.toThrow();
});

test.each([
  ['a 500', answer(500, OUTCOME), /status 500/],
  ['a 2xx that is not JSON', answer(200, '<html>'), /not JSON/],
  ['an unconditional 304', answer(304, ''), /304 without a condition/],
  ['a 4xx that is not fhir+json', answer(400, OUTCOME, { 'content-type': 'text/html' }), /not fhir\+json/],
  ['a 4xx without an OperationOutcome', answer(404, '{"error":"x"}'), /without an OperationOutcome/],
  ['an OperationOutcome without issues', answer(400, '{"resourceType":"OperationOutcome"}'), /without issues/],
  [
    'an OperationOutcome with only warnings',
    answer(400, '{"resourceType":"OperationOutcome","issue":[{"severity":"warning","code":"x"}]}'),
    /no errors/,
  ],
  [
    'an issue without a code',
    answer(400, '{"resourceType":"OperationOutcome","issue":[{"severity":"error"}]}'),
    /without a code/,
  ],
  ['a 3xx', answer(302, '', {}), /status 302/],
])('%s fails the case', (_label, bad, message) => {
  expect(() => checkAnswer(GET, bad)).toThrow(message);
});

test('a batch answered 200 with a 5xx entry fails the case', () => {
  const bundle = {
    entry: [{ response: { status: '201 Created' } }, { response: { status: '500 Internal Server Error' } }],
  };
  expect(() => checkBundleEntries(GET, answer(200, JSON.stringify(bundle)))).toThrow(/500 Internal/);
  expect(() => checkBundleEntries(GET, answer(400, OUTCOME))).not.toThrow();
});

test('creates are counted from 201 entries by the type of their location', () => {
  const bundle = {
    entry: [
      { response: { status: '201 Created', location: 'Patient/a/_history/1' } },
      { response: { status: '201 Created', location: 'Observation/b/_history/1' } },
      { response: { status: '201 Created', location: 'Patient/c/_history/1' } },
      { response: { status: '200 OK', location: 'Patient/d/_history/2' } },
    ],
  };
  expect(createdByBundle(answer(200, JSON.stringify(bundle)))).toEqual({ Patient: 2, Observation: 1 });
  expect(createdByBundle(answer(400, OUTCOME))).toEqual({});
});

test('counts must move by exactly the acknowledged creates', () => {
  const before = { Patient: 3, Observation: 1, Encounter: 0, Practitioner: 0 };
  expect(() => expectCountsMoved(before, { ...before, Patient: 4 }, { Patient: 1 }, GET)).not.toThrow();
  expect(() => expectCountsMoved(before, { ...before, Patient: 4 }, {}, GET)).toThrow(/Patient count 3 -> 4/);
  expect(() => expectCountsMoved(before, before, { Observation: 1 }, GET)).toThrow(/Observation count/);
});
