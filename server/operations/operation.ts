// The shape of a FHIR operation: its OperationDefinition (which also feeds the CapabilityStatement) and the
// handler that runs it.
import type { OperationDefinition, Parameters, ParametersParameter, Resource } from '@medplum/fhirtypes';
import { badRequest } from '../../resources/errors';
import type { FhirHandler, FhirRequest } from '../fhir/context';

export interface FhirOperation {
  definition: OperationDefinition & { code: string };
  handler: FhirHandler;
}

/** The input resource of an operation: the `resource` parameter of a Parameters body, or the body itself. */
export function operationResource(request: FhirRequest): Resource | undefined {
  const body = request.body as Resource | undefined;
  if (!body || typeof body !== 'object') return undefined;
  if (body.resourceType !== 'Parameters') return body;
  return (body as Parameters).parameter?.find((p) => p.name === 'resource')?.resource;
}

/** The values a parameter has on the URL. */
export function queryValues(request: FhirRequest, name: string): string[] {
  return request.query.filter(([n]) => n === name).map(([, v]) => v);
}

/** The parameters of that name in a Parameters body (none for any other body). */
export function bodyParameters(request: FhirRequest, name: string): ParametersParameter[] {
  const body = request.body as Parameters | undefined;
  return body?.resourceType === 'Parameters' ? (body.parameter ?? []).filter((p) => p.name === name) : [];
}

/** Values of a string-valued input parameter, from the URL and from a Parameters body. */
export function stringParameters(request: FhirRequest, name: string): string[] {
  const fromBody = bodyParameters(request, name).map(
    (p) => p.valueUri ?? p.valueCanonical ?? p.valueString ?? p.valueCode,
  );
  for (const value of fromBody) {
    if (typeof value !== 'string') throw badRequest(`Parameter ${name} must have a string value`, name);
  }
  return [...queryValues(request, name), ...(fromBody as string[])];
}
