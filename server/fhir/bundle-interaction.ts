// batch and transaction: POST [base] with a Bundle. A batch runs each entry on its own and reports each
// outcome; a transaction (transaction.ts) is atomic. Both dispatch entries through the routing table they are
// given (the one plain HTTP calls use), so every interaction behaves the same inside a Bundle.
import type { Bundle, BundleEntry } from '@medplum/fhirtypes';
import { FhirError, badRequest, informational, outcome } from '../../resources/errors';
import type { Dispatch, FhirHandler, FhirRequest, FhirResponse } from './context';
import { entryRequest, parseEntry } from './bundle-entry';
import { etag, parsePrefer } from './headers';
import { requireResourceBody } from './body';
import { responseBody } from './render';
import { runTransaction } from './transaction';

export const MAX_BUNDLE_ENTRIES = 10_000;

/** The batch/transaction handler, running entries through `dispatch`. */
export function bundleInteraction(dispatch: Dispatch): FhirHandler {
  return (request) => processBundle(request, dispatch);
}

async function processBundle(request: FhirRequest, dispatch: Dispatch): Promise<FhirResponse> {
  const bundle = requireResourceBody(request) as unknown as Bundle;
  if (bundle.resourceType !== 'Bundle') {
    throw badRequest('POST to the base URL takes a batch or transaction Bundle', 'resourceType');
  }
  if (bundle.type !== 'batch' && bundle.type !== 'transaction') {
    throw badRequest(`Bundle.type must be batch or transaction, got ${String(bundle.type)}`, 'Bundle.type');
  }
  const entries = bundle.entry ?? [];
  if (!Array.isArray(entries)) throw badRequest('Bundle.entry must be an array', 'Bundle.entry');
  if (entries.length > MAX_BUNDLE_ENTRIES) {
    throw badRequest(`A Bundle may hold at most ${MAX_BUNDLE_ENTRIES} entries`, 'Bundle.entry');
  }
  const returnPreference = parsePrefer(request.headers.prefer).return;
  if (bundle.type === 'transaction') {
    const parsed = entries.map((entry, index) => parseEntry(entry, index, request.baseUrl));
    const responses = await runTransaction(request, parsed, dispatch);
    return bundleResponse('transaction-response', responses, request.baseUrl, returnPreference);
  }
  const responses = await runBatch(request, entries, dispatch);
  return bundleResponse('batch-response', responses, request.baseUrl, returnPreference);
}

async function runBatch(request: FhirRequest, entries: BundleEntry[], dispatch: Dispatch): Promise<FhirResponse[]> {
  // Writes queue in entry order and share group commits; a read waits for the writes before it.
  const pending: Promise<FhirResponse>[] = [];
  for (const [index, entry] of entries.entries()) {
    const run = async (): Promise<FhirResponse> => {
      const parsed = parseEntry(entry, index, request.baseUrl);
      return dispatch(entryRequest(request, request.repo, parsed, parsed.body), parsed.segments);
    };
    const isRead = entry?.request?.method === 'GET' || entry?.request?.method === 'HEAD';
    if (isRead) await Promise.allSettled(pending);
    pending.push(run().catch((error: unknown) => errorResponse(request, error)));
  }
  return Promise.all(pending);
}

/** A failed batch entry becomes its own response; an unexpected error is a logged 500 for that entry only. */
function errorResponse(request: FhirRequest, error: unknown): FhirResponse {
  if (error instanceof FhirError) return { status: error.status, body: { resource: error.outcome } };
  request.reportError?.(error);
  const failure = outcome([{ severity: 'error', code: 'exception', diagnostics: 'Internal server error' }]);
  return { status: 500, body: { resource: failure } };
}

const STATUS_TEXT: Record<number, string> = {
  200: '200 OK',
  201: '201 Created',
  204: '204 No Content',
  304: '304 Not Modified',
  400: '400 Bad Request',
  404: '404 Not Found',
  405: '405 Method Not Allowed',
  409: '409 Conflict',
  410: '410 Gone',
  412: '412 Precondition Failed',
  415: '415 Unsupported Media Type',
  422: '422 Unprocessable Entity',
  500: '500 Internal Server Error',
};

function bundleResponse(
  type: 'batch-response' | 'transaction-response',
  responses: FhirResponse[],
  baseUrl: string,
  preference: string | undefined,
): FhirResponse {
  const entry = responses.map((response) => responseEntry(response, baseUrl, preference));
  const bundle: Bundle = { resourceType: 'Bundle', type, ...(entry.length > 0 ? { entry } : {}) };
  return { status: 200, body: { resource: bundle } };
}

function responseEntry(response: FhirResponse, baseUrl: string, preference: string | undefined): BundleEntry {
  const stored = response.stored;
  const result: BundleEntry = {
    response: {
      status: STATUS_TEXT[response.status] ?? String(response.status),
      ...(response.location ? { location: response.location } : {}),
      ...(stored ? { etag: etag(stored.versionId), lastModified: new Date(stored.lastUpdated).toISOString() } : {}),
    },
  };
  if (stored && !stored.deleted) result.fullUrl = `${baseUrl}/${stored.resourceType}/${stored.id}`;
  // A successful write answered minimally shows no body: not parsing it spares a JSON.parse per entry.
  const minimalWrite = response.isWrite && preference === 'minimal' && response.status < 400;
  const body = response.body && !minimalWrite ? responseBody(response.body) : undefined;
  const isOutcome = body?.resourceType === 'OperationOutcome';
  if (response.status >= 400 && isOutcome) {
    result.response!.outcome = body;
  } else if (response.isWrite && preference === 'OperationOutcome') {
    result.response!.outcome = isOutcome ? body : informational(response.status === 201 ? 'Created' : 'Updated');
  } else if (body && !isOutcome && !(response.isWrite && preference === 'minimal')) {
    result.resource = body;
  }
  return result;
}
