// metadata: the CapabilityStatement, generated from the routing table, the operations, the search-parameter
// registry and what the store can query, so it never claims what is not there.
import { SUBSCRIPTION_TOPICS } from '../../resources/subscriptions/topics';
import { websocketUrl } from '../operations/ws-binding-token';
import type {
  CapabilityStatement,
  CapabilityStatementRestResource,
  CapabilityStatementRestResourceSearchParam,
} from '@medplum/fhirtypes';
import { FHIR_VERSION, resourceTypes } from '../../resources/definitions';
import type { SearchParameterDefinition, SearchParameterRegistry } from '../../resources/search/registry';
import { capabilitySecurity } from '../auth/discovery';
import { OPERATIONS } from '../operations';
import type { FhirOperation } from '../operations/operation';
import type { FhirHandler } from './context';

export const SOFTWARE = { name: 'HMS FHIR Server', version: '0.1.0' };

const BULK_DATA = 'http://hl7.org/fhir/uv/bulkdata';

/** Operations the CapabilityStatement names otherwise than by their code: bdt looks for these names. */
const CAPABILITY_NAMES: Record<string, string> = {
  [`${BULK_DATA}/OperationDefinition/patient-export`]: 'patient-export',
  [`${BULK_DATA}/OperationDefinition/group-export`]: 'group-export',
};

type Interaction = NonNullable<CapabilityStatementRestResource['interaction']>[number]['code'];
type SystemInteraction = 'transaction' | 'batch' | 'search-system' | 'history-system';

/**
 * The metadata handler; `interactions` gives the interaction codes of the routing table (a function, as the
 * table holds this handler and is complete only once built).
 */
export function capabilitiesInteraction(interactions: () => ReadonlySet<string>): FhirHandler {
  return async (request) => ({
    status: 200,
    body: {
      resource: buildCapabilityStatement(
        request.baseUrl,
        request.repo.registry,
        request.repo.searchableTypes,
        interactions(),
      ),
    },
  });
}

export function buildCapabilityStatement(
  baseUrl: string,
  registry: SearchParameterRegistry,
  searchableTypes: ReadonlySet<string>,
  interactions: ReadonlySet<string>,
): CapabilityStatement {
  const typeInteractions = (
    [
      'read',
      'vread',
      'update',
      'patch',
      'delete',
      'history-instance',
      'history-type',
      'create',
      'search-type',
    ] as Interaction[]
  ).filter((code) => interactions.has(code));
  const systemInteractions: SystemInteraction[] = ['transaction', 'batch', 'search-system', 'history-system'];
  const supported = systemInteractions.filter(
    (code) => interactions.has(code) || (code === 'batch' && interactions.has('transaction')),
  );
  const revIncludes = revIncludesByTarget(registry);
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: new Date().toISOString(),
    kind: 'instance',
    instantiates: [
      `${BULK_DATA}/CapabilityStatement/bulk-data`,
      `${BACKPORT_IG}/CapabilityStatement/backport-subscription-server-r4`,
    ],
    software: SOFTWARE,
    implementation: { description: 'HMS FHIR R4 server', url: baseUrl },
    fhirVersion: FHIR_VERSION,
    format: ['application/fhir+json', 'json'],
    patchFormat: ['application/json-patch+json', 'application/fhir+json'],
    rest: [
      {
        mode: 'server',
        security: capabilitySecurity(baseUrl),
        // Where websocket Subscriptions are bound (R4's extension for it).
        extension: [
          {
            url: 'http://hl7.org/fhir/StructureDefinition/capabilitystatement-websocket',
            valueUri: websocketUrl(baseUrl),
          },
        ],
        documentation:
          'Unknown or unsupported search parameters are ignored, left out of the self link and reported in an ' +
          'OperationOutcome entry (search.mode = outcome); send `Prefer: handling=strict` to get a 400 instead. ' +
          'Conditional create, update, patch and delete criteria are always strict. Bundle.total: counted with ' +
          '`_total=accurate` or `estimate` (both exact), `_summary=count` and `_count=0`; without `_total` it is ' +
          'given only when the first page holds every match.',
        resource: resourceTypes().map((type) => ({
          ...resourceCapability(type, typeInteractions, interactions, registry, searchableTypes),
          ...(searchableTypes.has('reference') ? includeCapability(type, registry, revIncludes) : {}),
          ...(type === 'Subscription' ? SUBSCRIPTION_CAPABILITY : {}),
        })),
        interaction: supported.map((code) => ({ code })),
        searchParam: [
          { name: '_id', type: 'token', definition: 'http://hl7.org/fhir/SearchParameter/Resource-id' },
          {
            name: '_lastUpdated',
            type: 'date',
            definition: 'http://hl7.org/fhir/SearchParameter/Resource-lastUpdated',
          },
        ],
        operation: OPERATIONS.filter((o) => o.definition.system).map(operationCapability),
      },
    ],
  };
}

const BACKPORT_IG = 'http://hl7.org/fhir/uv/subscriptions-backport';

/** The Backport IG's discovery: the profile subscriptions follow, and one extension per topic offered. */
const SUBSCRIPTION_CAPABILITY: Partial<CapabilityStatementRestResource> = {
  supportedProfile: [`${BACKPORT_IG}/StructureDefinition/backport-subscription`],
  extension: SUBSCRIPTION_TOPICS.map((topic) => ({
    url: `${BACKPORT_IG}/StructureDefinition/capabilitystatement-subscriptiontopic-canonical`,
    valueCanonical: topic.url,
  })),
};

function resourceCapability(
  type: string,
  typeInteractions: Interaction[],
  interactions: ReadonlySet<string>,
  registry: SearchParameterRegistry,
  searchableTypes: ReadonlySet<string>,
): CapabilityStatementRestResource {
  return {
    type: type as CapabilityStatementRestResource['type'],
    profile: `http://hl7.org/fhir/StructureDefinition/${type}`,
    interaction: typeInteractions.map((code) => ({ code })),
    versioning: 'versioned-update',
    readHistory: true,
    updateCreate: true,
    conditionalCreate: true,
    conditionalRead: 'full-support',
    conditionalUpdate: interactions.has('conditional-update'),
    conditionalDelete: interactions.has('conditional-delete') ? 'multiple' : 'not-supported',
    searchParam: searchParams(type, registry, searchableTypes),
    operation: OPERATIONS.filter((o) => (o.definition.type || o.definition.instance) && appliesTo(o, type)).map(
      operationCapability,
    ),
  };
}

/** Operations on `Resource` apply to every type; the others only to the types they name. */
function appliesTo(operation: FhirOperation, type: string): boolean {
  const resources: readonly string[] = operation.definition.resource ?? [];
  return resources.some((r) => r === 'Resource' || r === type);
}

function operationCapability(operation: FhirOperation): { name: string; definition: string } {
  const definition = operation.definition.url as string;
  return { name: CAPABILITY_NAMES[definition] ?? operation.definition.code, definition };
}

function searchParams(
  type: string,
  registry: SearchParameterRegistry,
  searchableTypes: ReadonlySet<string>,
): CapabilityStatementRestResourceSearchParam[] {
  const params: CapabilityStatementRestResourceSearchParam[] = [];
  for (const definition of registry.forResourceType(type)) {
    const onRow = definition.code === '_id' || definition.code === '_lastUpdated';
    if (!onRow && !searchableTypes.has(definition.type)) continue;
    params.push({
      name: definition.code,
      type: definition.type as CapabilityStatementRestResourceSearchParam['type'],
      definition: definition.url,
    });
  }
  return params;
}

/** `_include` and `_revinclude` values, from the same registry the search resolves them with. */
function includeCapability(
  type: string,
  registry: SearchParameterRegistry,
  revIncludes: ReadonlyMap<string, string[]>,
): Pick<CapabilityStatementRestResource, 'searchInclude' | 'searchRevInclude'> {
  const includes = referenceParams(registry, type).map((d) => `${type}:${d.code}`);
  return {
    searchInclude: includes.length > 0 ? ['*', ...includes] : [],
    searchRevInclude: [...(revIncludes.get(type) ?? []), ...(revIncludes.get('*') ?? [])].sort(),
  };
}

/** Target type (`*` for parameters that may point at any type) -> the `Source:param` that can point at it. */
function revIncludesByTarget(registry: SearchParameterRegistry): Map<string, string[]> {
  const byTarget = new Map<string, string[]>();
  for (const source of resourceTypes()) {
    for (const definition of referenceParams(registry, source)) {
      const targets = definition.targets.length > 0 ? definition.targets : ['*'];
      for (const target of targets)
        byTarget.set(target, [...(byTarget.get(target) ?? []), `${source}:${definition.code}`]);
    }
  }
  return byTarget;
}

function referenceParams(registry: SearchParameterRegistry, type: string): SearchParameterDefinition[] {
  return registry.forResourceType(type).filter((d) => d.type === 'reference');
}
