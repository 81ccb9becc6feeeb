// Patient/$match (type level, R4; IHE PDQm ITI-119): the records most likely to be the given (partial) Patient,
// as a searchset Bundle, most likely first, each with a score and a match grade; inactive or merged-away
// records are left out and named in a warning. Candidates come from searches under the caller's grants.
import type { Bundle, BundleEntry, OperationOutcome } from '@medplum/fhirtypes';
import { badRequest, notFound } from '../../resources/errors';
import { blockingSearches } from '../../resources/matching/blocking';
import { patientFeatures } from '../../resources/matching/features';
import { parseMatchInput } from '../../resources/matching/input';
import { matchPatient, type DeprecatedMatch, type PatientMatch } from '../../resources/matching/match';
import { describeComparisons } from '../../resources/matching/weights';
import type { FhirRequest, FhirResponse } from '../fhir/context';
import type { FhirOperation } from './operation';

export const MATCH_GRADE_URL = 'http://hl7.org/fhir/StructureDefinition/match-grade';
/** Why the record scored as it did: each compared field's agreement level and weight. */
export const MATCH_DETAIL_URL = 'http://hms.local/fhir/StructureDefinition/match-detail';

async function matchHandler(request: FhirRequest): Promise<FhirResponse> {
  if (request.params.type !== 'Patient') throw notFound(`$match is defined on Patient, not ${request.params.type}`);
  const input = parseMatchInput(request.body);
  if (blockingSearches(input.patient, patientFeatures(input.patient)).length === 0) {
    throw badRequest('Nothing to match on: give an identifier, a name, a birth date or a telecom', 'resource');
  }
  const result = await matchPatient(request.repo, input.patient, input);
  request.repo.journal.note({ subtype: 'operation', versions: result.matches.map((m) => m.stored), query: '$match' });
  const entries: BundleEntry[] = result.matches.map((m) => matchEntry(request.baseUrl, m));
  if (result.deprecated.length > 0) entries.push(warningEntry(result.deprecated));
  const bundle: Bundle = { resourceType: 'Bundle', type: 'searchset', total: result.matches.length, entry: entries };
  return { status: 200, body: { resource: bundle } };
}

function matchEntry(baseUrl: string, match: PatientMatch): BundleEntry {
  return {
    fullUrl: `${baseUrl}/Patient/${match.stored.id}`,
    resource: match.patient,
    search: {
      mode: 'match',
      score: match.score,
      extension: [
        { url: MATCH_GRADE_URL, valueCode: match.grade },
        { url: MATCH_DETAIL_URL, valueString: describeComparisons(match.comparisons) },
      ],
    },
  };
}

/** Records that would have matched but are deprecated: a warning, never an error (ITI-119). */
function warningEntry(deprecated: DeprecatedMatch[]): BundleEntry {
  const outcome: OperationOutcome = {
    resourceType: 'OperationOutcome',
    issue: deprecated.map((d) => ({
      severity: 'warning',
      code: 'informational',
      diagnostics: d.replacedBy
        ? `Patient/${d.stored.id} (${d.grade} match) was merged into ${d.replacedBy}; it is not offered`
        : `Patient/${d.stored.id} (${d.grade} match) is inactive; it is not offered`,
    })),
  };
  return { resource: outcome, search: { mode: 'outcome' } };
}

export const matchOperation: FhirOperation = {
  definition: {
    resourceType: 'OperationDefinition',
    id: 'Patient-match',
    url: 'http://hl7.org/fhir/OperationDefinition/Patient-match',
    name: 'Match',
    status: 'active',
    kind: 'operation',
    code: 'match',
    resource: ['Patient'],
    system: false,
    type: true,
    instance: false,
    affectsState: false,
    parameter: [
      { name: 'resource', use: 'in', min: 1, max: '1', type: 'Resource' },
      { name: 'onlyCertainMatches', use: 'in', min: 0, max: '1', type: 'boolean' },
      { name: 'count', use: 'in', min: 0, max: '1', type: 'integer' },
      { name: 'return', use: 'out', min: 1, max: '1', type: 'Bundle' },
    ],
  },
  handler: matchHandler,
};
