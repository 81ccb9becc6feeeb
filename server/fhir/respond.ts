// Small builders of FhirResponses shared by the interaction handlers.
import type { OperationOutcome } from '@medplum/fhirtypes';
import type { StoredVersion } from '../../resources/store/port';
import type { FhirResponse } from './context';

export function versionLocation(stored: StoredVersion): string {
  return `${stored.resourceType}/${stored.id}/_history/${stored.versionId}`;
}

/** The stored JSON itself as the body: no parse, no re-serialization. */
export function storedResponse(status: number, stored: StoredVersion, extra: Partial<FhirResponse> = {}): FhirResponse {
  return { status, stored, body: stored.json === undefined ? undefined : { json: stored.json }, ...extra };
}

export function outcomeResponse(status: number, outcome: OperationOutcome): FhirResponse {
  return { status, body: { resource: outcome } };
}
