// Required bindings on write: every code and CodeableConcept whose R4 element (or R4 extension) binds it to a
// required value set must come from that value set. The bound elements and their expanded value sets come from the
// table the build generates (required-bindings-codegen.ts); the walk follows @medplum/core's type schemas through
// every object present (backbones, choice types, data types, nested resources, extensions at any depth), with
// each type's JSON keys resolved once. Locations are spelled only for what is found.
import { capitalize, tryGetDataType, type InternalTypeSchema } from '@medplum/core';
import type { OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import { builtScript } from '../built-script';
import { isResourceType, loadFhirDefinitions } from '../definitions';
import { errorIssue } from './issues';
import { fhirPathOf, type JsonStep } from './locations';
import type { BindingTable, TableExtension } from './required-bindings-table';

/** What the walk does with a JSON key: the FHIR type of its values and, when bound, the value set to check. */
interface KeyRule {
  type: string;
  valueSet?: CompiledValueSet;
}

interface CompiledValueSet {
  url: string;
  /** Every code of every system: a `code` element carries no system. */
  codes: ReadonlySet<string>;
  /** `system|code` of every code, for the codings of a CodeableConcept. */
  codings: ReadonlySet<string>;
}

interface CompiledExtension {
  values: ReadonlyMap<string, KeyRule>;
  parts: ReadonlyMap<string, CompiledExtension>;
}

const NESTED_RESOURCE = 'Resource';
/** The bound type of each value key an extension's binding is checked on. */
const EXTENSION_VALUE_TYPES: Record<string, string> = { valueCode: 'code', valueCodeableConcept: 'CodeableConcept' };
/** A primitive's `_name` object holds its id and extensions: an Element. */
const PRIMITIVE_ELEMENT: KeyRule = { type: 'Element' };
const MAX_QUOTED = 80;

let compiled: CompiledTable | undefined;

/** One error issue per code outside its required value set; [] when every checked binding holds. */
export function requiredBindingIssues(resource: Resource): OperationOutcomeIssue[] {
  compiled ??= new CompiledTable(loadTable());
  return new BindingWalk(resource, compiled).run();
}

/** Whether a code is in the required value set bound to an element path (`Money.currency`); true when unbound. */
export function inRequiredValueSet(path: string, code: string): boolean {
  compiled ??= new CompiledTable(loadTable());
  return compiled.valueSetOf(path)?.codes.has(code) ?? true;
}

/** Loads the generated table (a few ms), so that the first write does not pay for it. */
export function loadRequiredBindings(): void {
  compiled ??= new CompiledTable(loadTable());
}

function loadTable(): BindingTable {
  const script = builtScript(__dirname, 'resources/validation/fhir-required-bindings');
  if (!script) throw new Error('The generated required-bindings table is missing: run `npm run build`');
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a generated module, found at run time
  return require(script) as BindingTable;
}

/** The table with each value set compiled to sets and each type's keys resolved, on first use. */
class CompiledTable {
  readonly extensions: ReadonlyMap<string, CompiledExtension>;
  private readonly valueSets: (CompiledValueSet | undefined)[] = [];
  private readonly keyRules = new WeakMap<InternalTypeSchema, Map<string, KeyRule>>();

  constructor(private readonly table: BindingTable) {
    loadFhirDefinitions();
    this.extensions = this.compileExtensions(table.extensions);
  }

  /** The rules of the JSON keys of an object of `type` (a data type, a backbone type or a resource type). */
  rulesOf(type: string): Map<string, KeyRule> | undefined {
    const schema = tryGetDataType(type);
    if (!schema || schema.kind === 'primitive-type') return undefined;
    let rules = this.keyRules.get(schema);
    if (!rules) {
      rules = this.compileRules(schema);
      this.keyRules.set(schema, rules);
    }
    return rules;
  }

  private compileRules(schema: InternalTypeSchema): Map<string, KeyRule> {
    const rules = new Map<string, KeyRule>();
    for (const [name, element] of Object.entries(schema.elements)) {
      const index = Object.hasOwn(this.table.elements, element.path) ? this.table.elements[element.path] : undefined;
      const codes = (element.type ?? []).map((t) => t.code);
      const choice = name.endsWith('[x]');
      for (const code of choice ? codes : codes.slice(0, 1)) {
        const key = choice ? name.slice(0, -3) + capitalize(code) : name;
        rules.set(key, { type: code, valueSet: index === undefined ? undefined : this.valueSet(index) });
      }
    }
    return rules;
  }

  valueSetOf(path: string): CompiledValueSet | undefined {
    return Object.hasOwn(this.table.elements, path) ? this.valueSet(this.table.elements[path]) : undefined;
  }

  private valueSet(index: number): CompiledValueSet {
    let valueSet = this.valueSets[index];
    if (!valueSet) {
      const { url, systems } = this.table.valueSets[index];
      const entries = Object.entries(systems);
      valueSet = {
        url,
        codes: new Set(entries.flatMap(([, codes]) => codes)),
        codings: new Set(entries.flatMap(([system, codes]) => codes.map((code) => `${system}|${code}`))),
      };
      this.valueSets[index] = valueSet;
    }
    return valueSet;
  }

  private compileExtensions(tables: Record<string, TableExtension> | undefined): Map<string, CompiledExtension> {
    const compiledExtensions = new Map<string, CompiledExtension>();
    for (const [url, table] of Object.entries(tables ?? {})) {
      const values = Object.entries(table.values ?? {}).map(([key, index]): [string, KeyRule] => [
        key,
        { type: EXTENSION_VALUE_TYPES[key], valueSet: this.valueSet(index) },
      ]);
      compiledExtensions.set(url, { values: new Map(values), parts: this.compileExtensions(table.parts) });
    }
    return compiledExtensions;
  }
}

class BindingWalk {
  private readonly issues: OperationOutcomeIssue[] = [];
  private readonly steps: JsonStep[] = [];

  constructor(
    private readonly resource: Resource,
    private readonly table: CompiledTable,
  ) {}

  run(): OperationOutcomeIssue[] {
    this.visitObject(this.resource as unknown as Record<string, unknown>, this.resource.resourceType, undefined);
    return this.issues;
  }

  /** `known` is the R4 definition of the object when it is an extension R4 defines (or a part of one). */
  private visitObject(object: Record<string, unknown>, type: string, known: CompiledExtension | undefined): void {
    const rules = this.table.rulesOf(type);
    if (!rules) return;
    for (const key of Object.keys(object)) {
      const rule = known?.values.get(key) ?? rules.get(key) ?? (key.startsWith('_') ? PRIMITIVE_ELEMENT : undefined);
      if (!rule) continue;
      // An extension's own extensions are its parts when R4 defines it; anywhere else they are looked up by url.
      const extensions = key === 'extension' && known ? known.parts : this.table.extensions;
      const value = object[key];
      this.steps.push(key);
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) {
          this.steps.push(i);
          this.visitValue(value[i], rule, extensions);
          this.steps.pop();
        }
      } else {
        this.visitValue(value, rule, extensions);
      }
      this.steps.pop();
    }
  }

  private visitValue(value: unknown, rule: KeyRule, extensions: ReadonlyMap<string, CompiledExtension>): void {
    if (rule.valueSet) this.checkBinding(value, rule.type, rule.valueSet);
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return;
    const object = value as Record<string, unknown>;
    if (rule.type === NESTED_RESOURCE) {
      const type = object.resourceType;
      if (typeof type === 'string' && isResourceType(type)) this.visitObject(object, type, undefined);
      return;
    }
    const known = rule.type === 'Extension' && typeof object.url === 'string' ? extensions.get(object.url) : undefined;
    this.visitObject(object, rule.type, known);
  }

  private checkBinding(value: unknown, type: string, valueSet: CompiledValueSet): void {
    if (type === 'CodeableConcept') {
      this.checkConcept(value, valueSet);
    } else if (typeof value === 'string' && !valueSet.codes.has(value)) {
      this.report(`The value ${quote(value)} is not in the required value set ${valueSet.url}`);
    }
  }

  /**
   * R4 (terminologies §4.1.5.1): the concept of a required binding SHALL be from the value set; the codings other
   * than the one from the value set are translations. So one coding must match, and a concept given as text alone
   * is refused. A CodeableConcept with neither codings nor text (only extensions) states no concept and passes.
   */
  private checkConcept(value: unknown, valueSet: CompiledValueSet): void {
    if (!isObject(value)) return;
    const codings = Array.isArray(value.coding) ? value.coding.filter(isObject) : [];
    if (codings.some((coding) => valueSet.codings.has(codingKey(coding)))) return;
    const sent = codings.map((coding) => quote(codingText(coding))).join(', ');
    if (codings.length === 1) {
      this.report(`The coding ${sent} is not in the required value set ${valueSet.url}`);
    } else if (codings.length > 1) {
      this.report(`None of the codings ${sent} is in the required value set ${valueSet.url}`);
    } else if (typeof value.text === 'string') {
      this.report(
        `The concept ${quote(value.text)} is text only: it needs a coding from the required value set ${valueSet.url}`,
      );
    }
  }

  private report(diagnostics: string): void {
    this.issues.push(errorIssue('code-invalid', diagnostics, fhirPathOf(this.resource, this.steps)));
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function codingKey(coding: Record<string, unknown>): string {
  return `${String(coding.system)}|${String(coding.code)}`;
}

/** `system|code` as the client sent it, leaving out what is absent. */
function codingText(coding: Record<string, unknown>): string {
  return [coding.system, coding.code].filter((part) => typeof part === 'string').join('|');
}

/** A client's value for a message, in double quotes and cut at 80 characters. */
function quote(value: string): string {
  return value.length > MAX_QUOTED ? `"${value.slice(0, MAX_QUOTED - 3)}..."` : `"${value}"`;
}
