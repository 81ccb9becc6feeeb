// Structure check with @medplum/core: cardinality, JSON types, FHIRPath invariants and, given a profile, its
// constraints. Medplum throws an OperationOutcomeError when a resource is invalid; this turns either outcome into
// our issues, with Medplum's messages and locations made to match the JSON-schema stage's.
import {
  getAllDataTypes,
  loadDataType,
  OperationOutcomeError,
  tryGetDataType,
  validateResource as medplumValidateResource,
  validateTypedValue,
} from '@medplum/core';
import type { OperationOutcomeIssue, Resource, StructureDefinition } from '@medplum/fhirtypes';
import { isResourceType, loadFhirDefinitions } from '../definitions';
import { provablyValid } from './structure-proof';
import { errorIssue, expressionOf, issue } from './issues';
import { locateProperty, toFhirPath } from './locations';

/** Validates against the base definition of the resource's type, or against `profile` when given. */
export function validateStructure(resource: Resource, profile?: StructureDefinition): OperationOutcomeIssue[] {
  loadFhirDefinitions();
  // Most writes are valid: proving it takes a seventh of Medplum's time, which then only runs when in doubt.
  if (!profile && provablyValid(resource)) return [];
  let raw: OperationOutcomeIssue[];
  try {
    raw = medplumIssues(resource, profile);
  } catch (err) {
    if (!(err instanceof OperationOutcomeError)) {
      const message = `Structure validation failed: ${(err as Error).message}`;
      return [errorIssue('processing', message, resource.resourceType)];
    }
    raw = err.outcome.issue ?? [];
  }
  return raw.map((i) => fromMedplum(i, resource)).filter((i): i is OperationOutcomeIssue => i !== undefined);
}

/** Medplum's own result: [] or warnings when valid; throws OperationOutcomeError when not. */
export function medplumIssues(resource: Resource, profile?: StructureDefinition): OperationOutcomeIssue[] {
  loadFhirDefinitions();
  if (!profile) {
    return medplumValidateResource(resource);
  }
  const type = parsedProfileType(profile);
  return type ? validateTypedValue({ type, value: resource }) : medplumValidateResource(resource, { profile });
}

/**
 * `validateResource(r, { profile })` parses the profile's snapshot on every call (2.5 ms of the 4.3 ms that
 * us-core-patient takes). Medplum keeps a parsed schema only for types, and files a definition whose type is a URL
 * (a logical model) as a type of that name; so each profile is filed once as a logical model under a unique URL
 * and validated as that type. Same checks (the test suite compares both ways), a quarter of the time.
 */
const parsedProfiles = new WeakMap<StructureDefinition, string | undefined>();
let filed = 0;

function parsedProfileType(profile: StructureDefinition): string | undefined {
  if (!parsedProfiles.has(profile)) {
    parsedProfiles.set(profile, fileParsedProfile(profile));
  }
  return parsedProfiles.get(profile);
}

function fileParsedProfile(profile: StructureDefinition): string | undefined {
  const type = `${profile.url}|${profile.version ?? ''}#${++filed}`;
  if (!/^https?:\/\//.test(type)) {
    return undefined;
  }
  const types = getAllDataTypes();
  const before = { ...types };
  loadDataType({ ...profile, type, kind: 'logical' });
  // Loading also files the profile's backbone types under R4's names (PatientContact ...): put R4's back, and the
  // profile under its own URL, which the logical copy replaced.
  for (const name of Object.keys(types)) {
    if (name !== type && types[name] !== before[name]) {
      restore(types, before, name);
    }
  }
  loadDataType(profile);
  return tryGetDataType(type) ? type : undefined;
}

function restore<T>(target: Record<string, T>, saved: Record<string, T>, name: string): void {
  if (name in saved) {
    target[name] = saved[name];
  } else {
    delete target[name];
  }
}

interface MedplumRule {
  match: RegExp;
  rewrite: (issue: OperationOutcomeIssue, expression: string, resource: Resource, m: RegExpExecArray) => Rewritten;
}

/** undefined drops the issue. */
type Rewritten = OperationOutcomeIssue | undefined;

const MEDPLUM_RULES: MedplumRule[] = [
  {
    match: /^Missing required property$/,
    rewrite: (_i, expression) =>
      errorIssue('required', `Missing required property '${expression.split('.').pop()}'`, expression),
  },
  {
    // Medplum only warns, for backwards compatibility; R4 JSON allows one property per choice element.
    match: /^Conflicting choice of type properties: "([^"]+)", "([^"]+)"/,
    rewrite: (_i, expression, resource, m) =>
      errorIssue(
        'structure',
        `Only one of '${m[2]}' and '${m[1]}' may be present`,
        locateProperty(resource, m[1]) ?? expression,
      ),
  },
  {
    // Medplum takes the text before the first '/' as the type, so absolute and urn:uuid references look wrong.
    match: /^Invalid reference: got "([^"]*)"/,
    rewrite: (i, expression, _r, m) =>
      isResourceType(m[1]) ? issue(i.severity, i.code, i.details?.text ?? '', expression) : undefined,
  },
  {
    // "Unknown data type: X" comes without a location when X is the type of a nested resource.
    match: /^Unknown data type: (.*)$/,
    rewrite: (_i, _e, resource, m) =>
      errorIssue(
        'not-supported',
        `Unknown resource type '${m[1]}'`,
        locateProperty(resource, 'resourceType', m[1]) ?? resource.resourceType,
      ),
  },
];

function fromMedplum(raw: OperationOutcomeIssue, resource: Resource): Rewritten {
  const text = raw.details?.text ?? raw.diagnostics ?? '';
  const expression = toFhirPath(resource, expressionOf(raw));
  for (const rule of MEDPLUM_RULES) {
    const m = rule.match.exec(text);
    if (m) {
      return rule.rewrite(raw, expression, resource, m);
    }
  }
  return issue(raw.severity, raw.code, text, expression || resource.resourceType);
}
