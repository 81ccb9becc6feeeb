// The write-validation pipeline: JSON schema (ajv) -> required bindings -> structure and invariants (@medplum/core)
// -> each claimed profile. Returns every issue found, errors and warnings; the caller rejects the write when
// hasErrors(issues).
import type { OperationOutcome, OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import { isResourceType } from '../definitions';
import { errorIssue, expressionOf, hasErrors, unindexed } from './issues';
import { knownExtension } from './core-extensions';
import { profileClaims, profileRegistry, validateProfiles, type ProfileRegistry } from './profiles';
import { loadRequiredBindings, requiredBindingIssues } from './required-bindings';
import { schemaValidator, validateSchema } from './schema';
import { validateStructure } from './structure';

export { hasErrors } from './issues';
export { ProfileError, ProfileRegistry, profileRegistry } from './profiles';

const WARM_UP_EXTENSION = 'http://hl7.org/fhir/StructureDefinition/patient-birthTime';

export interface ValidationOptions {
  /** Profiles to check besides those in meta.profile (canonical URLs, optionally `url|version`). */
  profiles?: readonly string[];
  /** Where profiles are looked up; the shared registry by default. */
  registry?: ProfileRegistry;
}

/**
 * Validates a resource as sent by a client (parsed JSON). Server-owned fields may be present or not: a resource
 * without an id (create) and one with meta.versionId and meta.lastUpdated both pass.
 */
export function validateResource(resource: unknown, options: ValidationOptions = {}): OperationOutcomeIssue[] {
  const notAResource = checkResourceType(resource);
  if (notAResource) {
    return [notAResource];
  }
  const r = resource as Resource;
  const schemaIssues = validateSchema(r);
  const bindingIssues = notReportedBySchema(requiredBindingIssues(r), schemaIssues);
  const structureIssues = validateStructure(r);
  const base = [...schemaIssues, ...bindingIssues, ...withoutSchemaDuplicates(structureIssues, schemaIssues)];
  const claims = profileClaims(r, options.profiles);
  if (claims.length === 0) {
    return base;
  }
  const registry = options.registry ?? profileRegistry();
  return [...base, ...validateProfiles(r, claims, registry, [...schemaIssues, ...structureIssues])];
}

/** The OperationOutcome for a validation result; FHIR requires at least one issue, so a clean result says so. */
export function validationOutcome(issues: readonly OperationOutcomeIssue[]): OperationOutcome {
  return {
    resourceType: 'OperationOutcome',
    issue:
      issues.length > 0 ? [...issues] : [{ severity: 'information', code: 'informational', diagnostics: 'All OK' }],
  };
}

/**
 * Loads the definitions, R4's extension definitions, the profile registry, the generated JSON-schema validators
 * and the required-bindings table, so that the first request does not pay for them. Returns the milliseconds spent.
 */
export function warmUpValidation(resourceTypes: readonly string[] = ['Patient', 'Observation']): number {
  const start = performance.now();
  profileRegistry();
  knownExtension(WARM_UP_EXTENSION);
  loadRequiredBindings();
  resourceTypes.forEach((type) => schemaValidator(type));
  validateResource({ resourceType: 'Patient', name: [{ family: 'Warm', given: ['Up'] }], gender: 'unknown' });
  return performance.now() - start;
}

function checkResourceType(resource: unknown): OperationOutcomeIssue | undefined {
  if (typeof resource !== 'object' || resource === null || Array.isArray(resource)) {
    return errorIssue('structure', 'Expected a JSON object with a resourceType');
  }
  const type: unknown = (resource as { resourceType?: unknown }).resourceType;
  if (typeof type !== 'string') {
    return errorIssue('required', 'Missing resourceType', 'resourceType');
  }
  if (!isResourceType(type)) {
    return errorIssue('not-supported', `Unknown resource type '${type}': expected an R4 resource type`, 'resourceType');
  }
  return undefined;
}

/**
 * A code the schema refused already (a malformed code such as " active", an object where a code belongs) is not
 * reported again as outside its value set; bindings the schema's enums enforce are left out of the table at build.
 */
function notReportedBySchema(
  bindings: readonly OperationOutcomeIssue[],
  schema: readonly OperationOutcomeIssue[],
): OperationOutcomeIssue[] {
  if (bindings.length === 0 || schema.length === 0) return [...bindings];
  const reported = new Set(schema.map(expressionOf));
  return bindings.filter((i) => !reported.has(expressionOf(i)));
}

/**
 * Both stages see unknown properties, wrong JSON types and bad formats; the schema's message is the more precise
 * (it names allowed values and formats), so Medplum's is dropped where the schema already reported the same place
 * or a place above it (a string where an array belongs also yields Medplum's "Invalid additional property '0'").
 * Medplum gives some locations without indices, hence the comparison without them. Invariants are Medplum's alone
 * and always kept; its crashes on malformed input are consequences of what the schema reported.
 */
function withoutSchemaDuplicates(
  structure: readonly OperationOutcomeIssue[],
  schema: readonly OperationOutcomeIssue[],
): OperationOutcomeIssue[] {
  if (!hasErrors(schema)) {
    return [...structure];
  }
  // A nested resource without a known resourceType is reported at X.resourceType and covers all of X.
  const reported = schema.map((i) => unindexed(expressionOf(i)).replace(/\.resourceType$/, ''));
  const covered = (expression: string): boolean =>
    reported.some((r) => expression === r || expression.startsWith(`${r}.`));
  return structure.filter(
    (i) => i.code === 'invariant' || (i.code !== 'processing' && !covered(unindexed(expressionOf(i)))),
  );
}
