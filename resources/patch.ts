// A PATCH body applied to a resource: JSON Patch (RFC 6902) or FHIRPath Patch (a Parameters resource). All
// operations or none, with a failing `test` or an unresolvable path reported as an OperationOutcome, and the
// resource's type and id kept as they were.
import { applyPatch as applyOperations, JsonPatchError, validate, type Operation } from 'fast-json-patch';
import type { Resource } from '@medplum/fhirtypes';
import { badRequest, unprocessable } from './errors';
import { applyFhirPathPatch } from './fhirpath-patch/apply';
import { FhirPathPatch } from './fhirpath-patch/parse';

/** What PATCH carries: JSON Patch operations, or a parsed FHIRPath Patch. */
export type PatchDocument = Operation[] | FhirPathPatch;

const MAX_OPERATIONS = 1000;

export function parseJsonPatch(body: unknown): Operation[] {
  if (!Array.isArray(body)) throw badRequest('A JSON Patch document must be an array of operations');
  if (body.length > MAX_OPERATIONS) throw badRequest(`A JSON Patch may hold at most ${MAX_OPERATIONS} operations`);
  const error = validate(body as Operation[]);
  if (error) throw badRequest(`Invalid JSON Patch operation ${error.index}: ${describe(error)}`);
  const operations = body as Operation[];
  operations.forEach((operation, index) => {
    // RFC 6902 4.4: `from` must not be a proper prefix of `path` (a value cannot move into itself).
    if (operation.op === 'move' && operation.path.startsWith(`${operation.from}/`)) {
      throw badRequest(`Invalid JSON Patch operation ${index}: cannot move a value into its own child`);
    }
  });
  return operations;
}

export function applyPatch(resource: Resource, patch: PatchDocument): Resource {
  const result = patch instanceof FhirPathPatch ? applyFhirPathPatch(resource, patch) : applyJsonPatch(resource, patch);
  if (result?.resourceType !== resource.resourceType || result.id !== resource.id) {
    throw unprocessable('A patch may not change the resource type or id');
  }
  return result;
}

function applyJsonPatch(resource: Resource, operations: Operation[]): Resource {
  let patched: unknown;
  try {
    patched = applyOperations(resource, operations, true, false, true).newDocument;
  } catch (error) {
    if (error instanceof JsonPatchError) {
      const message = `JSON Patch operation ${error.index ?? 0} failed: ${describe(error)}`;
      throw error.name === 'TEST_OPERATION_FAILED' ? unprocessable(message) : badRequest(message);
    }
    // fast-json-patch throws plain errors for some paths it cannot walk: still the patch's fault.
    throw badRequest(`The JSON Patch cannot be applied: ${(error as Error).message}`);
  }
  return patched as Resource;
}

const DESCRIPTIONS: Record<string, string> = {
  TEST_OPERATION_FAILED: 'the test operation did not match',
  OPERATION_PATH_UNRESOLVABLE: 'the path does not exist',
  OPERATION_FROM_UNRESOLVABLE: 'the from path does not exist',
  OPERATION_PATH_INVALID: 'the path is invalid',
  OPERATION_OP_INVALID: 'unknown op',
  OPERATION_VALUE_REQUIRED: 'a value is required',
  OPERATION_PATH_ILLEGAL_ARRAY_INDEX: 'illegal array index',
  OPERATION_VALUE_OUT_OF_BOUNDS: 'array index out of bounds',
  OPERATION_NOT_AN_OBJECT: 'an operation must be an object',
  SEQUENCE_NOT_AN_ARRAY: 'the patch must be an array',
};

function describe(error: JsonPatchError): string {
  const where = error.operation && typeof error.operation.path === 'string' ? ` at ${error.operation.path}` : '';
  return (DESCRIPTIONS[error.name] ?? 'invalid operation') + where;
}
