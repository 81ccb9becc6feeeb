// The transport-free shape of a FHIR interaction: what a handler receives and returns. The HTTP edge and
// the batch/transaction processor both build a FhirRequest, so every interaction has one implementation.
import type { Resource } from '@medplum/fhirtypes';
import type { Repository } from '../../resources/repository';
import type { SearchParamPairs } from '../../resources/search/parse';
import type { StoredVersion } from '../../resources/store/port';

export type FhirMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface FhirRequest {
  method: FhirMethod;
  /** Path parameters matched by the route: type, id, vid, op. */
  params: Record<string, string>;
  query: SearchParamPairs;
  headers: {
    ifMatch?: string;
    ifNoneMatch?: string;
    ifModifiedSince?: string;
    ifNoneExist?: string;
    prefer?: string;
    contentType?: string;
  };
  /** Parsed body: a resource, a JSON Patch array, or form fields for POST _search. */
  body?: unknown;
  repo: Repository;
  /** Public base URL of the FHIR API, without a trailing slash. */
  baseUrl: string;
  /** For a create inside a transaction: the id the transaction fixed for it. */
  assignedId?: string;
  /** Logs an unexpected error that a handler turns into a response itself (batch entries). */
  reportError?: (error: unknown) => void;
}

export type FhirBody = { json: string } | { resource: Resource };

export interface FhirResponse {
  status: number;
  body?: FhirBody;
  /** The version the response is about: gives ETag and Last-Modified. */
  stored?: StoredVersion;
  /** Relative location (Type/id/_history/v) for creates. */
  location?: string;
  /** Set on writes so `Prefer: return=minimal|OperationOutcome` can replace the body. */
  isWrite?: boolean;
  headers?: Record<string, string>;
}

export type FhirHandler = (request: FhirRequest) => Promise<FhirResponse>;

/**
 * Runs a request through the routing table by its path segments. Handlers that run other interactions
 * (batch, transaction) receive it, so they need not import the router that routes to them.
 */
export type Dispatch = (request: Omit<FhirRequest, 'params'>, segments: string[]) => Promise<FhirResponse>;
