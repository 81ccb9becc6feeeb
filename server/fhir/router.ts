// The one routing table of the FHIR API: method + path pattern -> interaction handler. The HTTP edge and
// the batch/transaction processor dispatch through it, and the CapabilityStatement is generated from it; both
// of those handlers are given what they need of the table here, so neither imports this module.
import { FhirError, notAllowed, notFound } from '../../resources/errors';
import { OPERATIONS } from '../operations';
import { bundleInteraction } from './bundle-interaction';
import { capabilitiesInteraction } from './capabilities';
import type { FhirHandler, FhirMethod, FhirRequest, FhirResponse } from './context';
import { conditionalDeleteInteraction, deleteInteraction } from './delete';
import { createInteraction } from './create';
import { historyInteraction } from './history';
import { conditionalPatchInteraction, patchInteraction } from './patch';
import { readInteraction } from './read';
import { compartmentSearchInteraction, systemSearchInteraction, typeSearchInteraction } from './search';
import { conditionalUpdateInteraction, updateInteraction } from './update';
import { vreadInteraction } from './vread';

export type Level = 'system' | 'type' | 'instance';

export interface Route {
  method: Exclude<FhirMethod, 'HEAD'>;
  /** Literal segments, `:type`, `:id`, `:vid`, or `$name` for an operation. */
  pattern: string[];
  level: Level;
  /** The CapabilityStatement interaction code (or `operation`). */
  interaction: string;
  handler: FhirHandler;
}

const route = (
  method: Route['method'],
  path: string,
  level: Level,
  interaction: string,
  handler: FhirHandler,
): Route => ({
  method,
  pattern: path === '' ? [] : path.split('/'),
  level,
  interaction,
  handler,
});

const OPERATION_PATHS: Record<Level, string> = { system: '', type: ':type/', instance: ':type/:id/' };

function operationRoutes(): Route[] {
  return OPERATIONS.flatMap((operation) => {
    const levels = (['system', 'type', 'instance'] as const).filter((level) => operation.definition[level]);
    const methods: Route['method'][] = operation.definition.affectsState ? ['POST'] : ['POST', 'GET'];
    return levels.flatMap((level) =>
      methods.map((method) =>
        route(method, `${OPERATION_PATHS[level]}$${operation.definition.code}`, level, 'operation', operation.handler),
      ),
    );
  });
}

export const ROUTES: readonly Route[] = [
  route(
    'GET',
    'metadata',
    'system',
    'capabilities',
    capabilitiesInteraction(() => INTERACTIONS),
  ),
  route('GET', '', 'system', 'search-system', systemSearchInteraction),
  route('POST', '_search', 'system', 'search-system', systemSearchInteraction),
  route('POST', '', 'system', 'transaction', bundleInteraction(dispatch)),
  route('GET', '_history', 'system', 'history-system', historyInteraction),
  ...operationRoutes(),
  route('GET', ':type', 'type', 'search-type', typeSearchInteraction),
  route('POST', ':type/_search', 'type', 'search-type', typeSearchInteraction),
  route('POST', ':type', 'type', 'create', createInteraction),
  route('PUT', ':type', 'type', 'conditional-update', conditionalUpdateInteraction),
  route('PATCH', ':type', 'type', 'conditional-patch', conditionalPatchInteraction),
  route('DELETE', ':type', 'type', 'conditional-delete', conditionalDeleteInteraction),
  route('GET', ':type/_history', 'type', 'history-type', historyInteraction),
  route('GET', ':type/:id', 'instance', 'read', readInteraction),
  route('PUT', ':type/:id', 'instance', 'update', updateInteraction),
  route('PATCH', ':type/:id', 'instance', 'patch', patchInteraction),
  route('DELETE', ':type/:id', 'instance', 'delete', deleteInteraction),
  route('GET', ':type/:id/_history', 'instance', 'history-instance', historyInteraction),
  route('GET', ':type/:id/_history/:vid', 'instance', 'vread', vreadInteraction),
  route('GET', ':type/:id/:compartmentType', 'instance', 'search-compartment', compartmentSearchInteraction),
];

/** The interaction codes the table serves, for the CapabilityStatement. */
const INTERACTIONS: ReadonlySet<string> = new Set(ROUTES.map((r) => r.interaction));

export interface RouteMatch {
  route: Route;
  params: Record<string, string>;
}

/** Finds the route; 404 when no pattern fits the path, 405 when one fits but not for this method. */
export function matchRoute(method: string, segments: string[]): RouteMatch {
  const wanted = method === 'HEAD' ? 'GET' : method;
  const allowed = new Set<string>();
  for (const candidate of ROUTES) {
    const params = matchPattern(candidate.pattern, segments);
    if (!params) continue;
    if (candidate.method === wanted) return { route: candidate, params };
    allowed.add(candidate.method);
  }
  if (allowed.size > 0) {
    if (allowed.has('GET')) allowed.add('HEAD');
    const error = notAllowed(`${method} is not allowed on /${segments.join('/')}`);
    throw new FhirError(error.status, error.outcome, { Allow: [...allowed].join(', ') });
  }
  throw notFound(`No FHIR endpoint at /${segments.join('/')}`);
}

function matchPattern(pattern: string[], segments: string[]): Record<string, string> | undefined {
  if (pattern.length !== segments.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const expected = pattern[i];
    const actual = segments[i];
    if (expected.startsWith(':')) {
      // Variables never swallow a reserved segment (`_history`, `_search`, `$op`, `metadata`).
      if (expected !== ':vid' && (actual.startsWith('_') || actual.startsWith('$') || actual === 'metadata'))
        return undefined;
      if (actual === '') return undefined;
      params[expected.slice(1)] = actual;
    } else if (expected !== actual) {
      return undefined;
    }
  }
  return params;
}

/** The one Dispatch of the API (a function declaration, so the table above can hand it out before this line). */
export async function dispatch(request: Omit<FhirRequest, 'params'>, segments: string[]): Promise<FhirResponse> {
  const { route: matched, params } = matchRoute(request.method, segments);
  return matched.handler({ ...request, params });
}
