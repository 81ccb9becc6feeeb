// $everything: Patient/[id]/$everything (the patient's record), Patient/$everything (the records of every
// patient the caller may see) and Encounter/[id]/$everything (one encounter's record). A searchset Bundle of
// the compartment's resources (search.mode match) and the shared resources they refer to (include), paged
// through `next` links that carry every parameter. The walk, the hop and the cursor live in resources/everything.
import type { Parameters } from '@medplum/fhirtypes';
import { patientsOf } from '../../resources/audit/trail';
import { badRequest, notFound } from '../../resources/errors';
import {
  SeenSet,
  decodeEverythingCursor,
  encodeEverythingCursor,
  queryFingerprint,
  type EverythingCursor,
} from '../../resources/everything/cursor';
import { parseEverythingParams, selectingPairs, type EverythingParams } from '../../resources/everything/params';
import { SUPPORTING_TYPES, walkSegments, type AnchorType } from '../../resources/everything/plan';
import { supportingResources } from '../../resources/everything/supporting';
import { Walk, type WalkPage } from '../../resources/everything/walk';
import { shapeResourceJson } from '../../resources/search/summary';
import type { StoredVersion } from '../../resources/store/port';
import { bundleJson, link, urlWithQuery, type RawEntry } from '../fhir/bundle';
import type { FhirRequest, FhirResponse } from '../fhir/context';
import type { FhirOperation } from './operation';

const ANCHORS: Record<string, AnchorType> = { Patient: 'Patient', Encounter: 'Encounter' };

async function everythingHandler(request: FhirRequest): Promise<FhirResponse> {
  const { type, id } = request.params;
  const anchor = ANCHORS[type];
  if (!anchor) throw notFound(`$everything is defined on Patient and Encounter, not on ${type}`);
  if (anchor === 'Encounter' && id === undefined) {
    throw badRequest('Encounter/$everything is instance-level only: call Encounter/[id]/$everything');
  }
  const registry = request.repo.registry;
  const params = parseEverythingParams(registry, anchor, operationPairs(request));
  // The anchor is read as a read would be: unknown or not the caller's is a 404, no read grant a 403.
  const anchorResource = id !== undefined ? await request.repo.read(anchor, id) : undefined;
  const recordPatient = anchor === 'Encounter' ? patientsOf(registry, anchorResource as StoredVersion)[0] : undefined;
  const path = id !== undefined ? `${type}/${id}/$everything` : `${type}/$everything`;
  const segments = walkSegments(registry, anchor, {
    types: params.types,
    access: request.repo.access,
    byCareDate: params.start !== undefined || params.end !== undefined,
  });
  const plan = segments.map((s) => [s.param, ...s.types]);
  const fingerprint = queryFingerprint(path, selectingPairs(params), plan);
  const walk = new Walk({
    repo: request.repo,
    anchor,
    segments,
    params,
    typeLevel: id === undefined,
    recordPatient,
  });
  const cursor = params.cursor !== undefined ? decodeEverythingCursor(params.cursor, fingerprint) : undefined;
  const position = cursor?.position ?? (await walk.start(id));
  const seen = cursor?.seen ?? new SeenSet();
  const page: WalkPage = position ? await walk.page(position) : { matches: [] };
  const included = await supportingResources(
    {
      repo: request.repo,
      types: supportingTypes(anchor, params),
      allowedPatients: new Set(recordPatient !== undefined ? [recordPatient] : []),
      baseUrl: request.baseUrl,
    },
    page.matches,
    seen,
  );
  request.repo.journal.note({
    subtype: 'operation',
    versions: [...page.matches, ...included],
    query: new URLSearchParams(params.pairs).toString(),
    resourceType: anchor,
  });
  const next: EverythingCursor | undefined = page.next ? { position: page.next, seen } : undefined;
  return render(request, path, params, { ...page, included, next: next && encodeEverythingCursor(next, fingerprint) });
}

function supportingTypes(anchor: AnchorType, params: EverythingParams): Set<string> {
  return new Set(SUPPORTING_TYPES[anchor].filter((type) => !params.types || params.types.has(type)));
}

/** The parameters from the URL and from a Parameters body (POST), as name/value pairs. */
function operationPairs(request: FhirRequest): [string, string][] {
  const body = request.body as Parameters | undefined;
  if (body === undefined) return request.query;
  if (body?.resourceType !== 'Parameters') throw badRequest('POST $everything takes a Parameters body');
  const fromBody = (body.parameter ?? []).map((p): [string, string] => {
    const value = p.valueDate ?? p.valueDateTime ?? p.valueInstant ?? p.valueString ?? p.valueCode ?? p.valueInteger;
    if (value === undefined) throw badRequest(`Parameter ${p.name} must have a primitive value`, p.name);
    return [p.name as string, String(value)];
  });
  return [...request.query, ...fromBody];
}

function render(
  request: FhirRequest,
  path: string,
  params: EverythingParams,
  result: { matches: StoredVersion[]; included: StoredVersion[]; next?: string },
): FhirResponse {
  const self = params.cursor !== undefined ? [...params.pairs, ['_cursor', params.cursor] as [string, string]] : [];
  const links = [link('self', urlWithQuery(request.baseUrl, path, self.length > 0 ? self : params.pairs))];
  if (result.next)
    links.push(link('next', urlWithQuery(request.baseUrl, path, [...params.pairs, ['_cursor', result.next]])));
  const entry = (stored: StoredVersion, mode: 'match' | 'include'): RawEntry => ({
    fullUrl: `${request.baseUrl}/${stored.resourceType}/${stored.id}`,
    resourceJson: shapeResourceJson(stored.json as string, params.shaping),
    rest: { search: { mode } },
  });
  // The total is given when it costs nothing: the whole result is this one page.
  const complete = params.cursor === undefined && result.next === undefined;
  const json = bundleJson(
    {
      resourceType: 'Bundle',
      type: 'searchset',
      ...(complete ? { total: result.matches.length } : {}),
      link: links,
    },
    [...result.matches.map((m) => entry(m, 'match')), ...result.included.map((i) => entry(i, 'include'))],
  );
  return { status: 200, body: { json } };
}

const RETURN = { name: 'return', use: 'out', min: 1, max: '1', type: 'Bundle' } as const;
const SINCE_TYPE_COUNT = [
  { name: '_since', use: 'in', min: 0, max: '1', type: 'instant' },
  { name: '_type', use: 'in', min: 0, max: '*', type: 'code' },
  { name: '_count', use: 'in', min: 0, max: '1', type: 'integer' },
] as const;

/** R4's Patient-everything (type and instance level), with `start` and `end`. */
export const patientEverythingOperation: FhirOperation = {
  definition: {
    resourceType: 'OperationDefinition',
    id: 'Patient-everything',
    url: 'http://hl7.org/fhir/OperationDefinition/Patient-everything',
    name: 'PatientEverything',
    status: 'active',
    kind: 'operation',
    code: 'everything',
    description:
      'The compartment of the patient (or of every patient the caller may see) plus the Medication, ' +
      'Practitioner, PractitionerRole, Organization, Location and Device resources it refers to, one hop, as a ' +
      'paged searchset Bundle.',
    resource: ['Patient'],
    system: false,
    type: true,
    instance: true,
    affectsState: false,
    parameter: [
      { name: 'start', use: 'in', min: 0, max: '1', type: 'date' },
      { name: 'end', use: 'in', min: 0, max: '1', type: 'date' },
      ...SINCE_TYPE_COUNT,
      RETURN,
    ],
  },
  handler: everythingHandler,
};

/** R4's Encounter-everything: instance level only, no start or end. */
export const encounterEverythingOperation: FhirOperation = {
  definition: {
    resourceType: 'OperationDefinition',
    id: 'Encounter-everything',
    url: 'http://hl7.org/fhir/OperationDefinition/Encounter-everything',
    name: 'EncounterEverything',
    status: 'active',
    kind: 'operation',
    code: 'everything',
    description: "The encounter's compartment plus the shared resources it refers to, one hop, as a paged Bundle.",
    resource: ['Encounter'],
    system: false,
    type: false,
    instance: true,
    affectsState: false,
    parameter: [...SINCE_TYPE_COUNT, RETURN],
  },
  handler: everythingHandler,
};
