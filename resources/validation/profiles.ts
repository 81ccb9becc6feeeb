// Profiles: a registry of StructureDefinitions (with snapshots; Medplum core cannot generate one) and validation
// of a resource against the profiles it claims. The shared registry starts with US Core 5.0.1 and the project's
// profiles/ folder; more can be registered at run time.
import { isDataTypeLoaded, loadDataType } from '@medplum/core';
import type { OperationOutcomeIssue, Resource, StructureDefinition } from '@medplum/fhirtypes';
import { bundledStructureDefinitions, readProfileStructureDefinitions } from '../../profiles/loader';
import { isResourceType, loadFhirDefinitions } from '../definitions';
import { errorIssue, expressionOf, issue } from './issues';
import { validateStructure } from './structure';

/** A StructureDefinition the registry refuses; the message says why. */
export class ProfileError extends Error {
  override readonly name = 'ProfileError';
}

/** One claimed profile: its canonical URL (maybe `url|version`) and where the resource claims it. */
export interface ProfileClaim {
  canonical: string;
  expression?: string;
}

const CORE_DEFINITION_PREFIX = 'http://hl7.org/fhir/StructureDefinition/';

export class ProfileRegistry {
  /** url -> version ('' when unversioned) -> definition, in registration order. */
  private readonly byUrl = new Map<string, Map<string, StructureDefinition>>();

  /**
   * Registers a constraint profile that carries a snapshot; a later one with the same url and version replaces it.
   * Throws ProfileError when the definition cannot be used for validation.
   */
  register(definition: StructureDefinition): void {
    const sd = structuredClone(definition);
    loadFhirDefinitions();
    checkRegistrable(sd);
    try {
      loadDataType(sd);
    } catch (err) {
      throw new ProfileError(`StructureDefinition '${sd.url}' cannot be used: ${(err as Error).message}`, {
        cause: err,
      });
    }
    const versions = this.byUrl.get(sd.url) ?? new Map<string, StructureDefinition>();
    versions.delete(sd.version ?? '');
    versions.set(sd.version ?? '', sd);
    this.byUrl.set(sd.url, versions);
  }

  /**
   * The profile a canonical names: `url|version` needs that exact version; a bare url gets the one registered last.
   */
  resolve(canonical: string): StructureDefinition | undefined {
    const bar = canonical.lastIndexOf('|');
    const url = bar < 0 ? canonical : canonical.slice(0, bar);
    const versions = this.byUrl.get(url);
    if (!versions) {
      return undefined;
    }
    return bar < 0 ? [...versions.values()].pop() : versions.get(canonical.slice(bar + 1));
  }

  /** The canonical URLs (`url|version` when versioned) of every registered profile. */
  canonicals(): string[] {
    return [...this.byUrl.values()].flatMap((versions) =>
      [...versions.values()].map((sd) => (sd.version ? `${sd.url}|${sd.version}` : sd.url)),
    );
  }
}

function checkRegistrable(sd: StructureDefinition): void {
  const name = sd.url ?? sd.name ?? '(no url)';
  if (sd.resourceType !== 'StructureDefinition') {
    throw new ProfileError(`Expected a StructureDefinition, got ${sd.resourceType}`);
  }
  if (!sd.url || !sd.type) {
    throw new ProfileError(`StructureDefinition '${name}' needs a url and a type`);
  }
  if (!sd.snapshot?.element?.length) {
    throw new ProfileError(
      `StructureDefinition '${name}' has no snapshot: only profiles with a snapshot can be validated ` +
        '(generate it with the IG Publisher or SUSHI, then register it again)',
    );
  }
  if (sd.derivation !== 'constraint') {
    throw new ProfileError(`StructureDefinition '${name}' is not a constraint profile (derivation '${sd.derivation}')`);
  }
  const known = sd.kind === 'resource' ? isResourceType(sd.type) : isDataTypeLoaded(sd.type);
  if (!known) {
    throw new ProfileError(`StructureDefinition '${name}' constrains '${sd.type}', which is not an R4 type`);
  }
  // Medplum files a definition with a core URL as the base type itself: it would replace R4's own definition.
  if (sd.url === `${CORE_DEFINITION_PREFIX}${sd.type}`) {
    throw new ProfileError(`StructureDefinition '${name}' would replace the R4 definition of ${sd.type}`);
  }
}

let shared: ProfileRegistry | undefined;

/** The process-wide registry: US Core 5.0.1 and the project's profiles/ folder, loaded on first use. */
export function profileRegistry(): ProfileRegistry {
  if (!shared) {
    const registry = new ProfileRegistry();
    for (const sd of [...bundledStructureDefinitions(), ...readProfileStructureDefinitions()]) {
      registry.register(sd);
    }
    shared = registry;
  }
  return shared;
}

/** The profiles a resource claims in meta.profile, then the extra ones, each canonical once. */
export function profileClaims(resource: Resource, extra: readonly string[] = []): ProfileClaim[] {
  const claims: ProfileClaim[] = [];
  const add = (canonical: unknown, expression?: string): void => {
    if (typeof canonical === 'string' && !claims.some((c) => c.canonical === canonical)) {
      claims.push({ canonical, expression });
    }
  };
  const claimed: unknown = resource.meta?.profile;
  if (Array.isArray(claimed)) {
    claimed.forEach((canonical, i) => add(canonical, `${resource.resourceType}.meta.profile[${i}]`));
  }
  extra.forEach((canonical) => add(canonical));
  return claims;
}

/**
 * Validates the resource against each claimed profile. An unknown profile is a warning, never an error: the
 * resource was still checked against R4. Issues already in `known` (the base validation's) are not repeated.
 */
export function validateProfiles(
  resource: Resource,
  claims: readonly ProfileClaim[],
  registry: ProfileRegistry,
  known: readonly OperationOutcomeIssue[] = [],
): OperationOutcomeIssue[] {
  const seen = new Set(known.map(issueKey));
  return claims.flatMap((claim) => {
    const sd = registry.resolve(claim.canonical);
    if (!sd) {
      return [unknownProfile(claim)];
    }
    if (sd.type !== resource.resourceType) {
      return [
        errorIssue(
          'invalid',
          `Profile '${claim.canonical}' constrains ${sd.type}, not ${resource.resourceType}`,
          claim.expression,
        ),
      ];
    }
    return validateStructure(resource, sd)
      .filter((i) => !seen.has(issueKey(i)))
      .map((i) => issue(i.severity, i.code, `${i.diagnostics} (profile ${claim.canonical})`, expressionOf(i)));
  });
}

function unknownProfile(claim: ProfileClaim): OperationOutcomeIssue {
  return issue(
    'warning',
    'not-supported',
    `Profile '${claim.canonical}' is not known to this server: the resource was validated against R4 only`,
    claim.expression,
  );
}

function issueKey(i: OperationOutcomeIssue): string {
  return `${i.severity}|${i.code}|${expressionOf(i)}|${i.diagnostics}`;
}
