// Rules on every element that neither the JSON schema nor @medplum/core checks: R4 JSON has no empty objects or
// arrays; ele-1, an element has a value or children besides its id (Medplum skips ele-1); R4's own extensions carry
// the value types their definitions allow. One walk over the resource; locations are spelled only for what is found.
// Contexts are not checked: R4's own definitions break them (structuredefinition-fhir-type on ElementDefinition.type,
// whose context is ElementDefinition.type.code), so checking them would refuse HL7's published content.
import type { OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import { knownExtension, type KnownExtension } from './core-extensions';
import { errorIssue, type IssueCode } from './issues';
import { fhirPathOf, type JsonStep } from './locations';

const EMPTY = 'Empty value: omit the element instead of sending an empty object or array';
const ONLY_ID = 'Element with only an id: an element needs a value or children besides its id (ele-1)';

export function elementIssues(resource: Resource): OperationOutcomeIssue[] {
  return new ElementWalk(resource).run();
}

class ElementWalk {
  private readonly issues: OperationOutcomeIssue[] = [];
  private readonly steps: JsonStep[] = [];

  constructor(private readonly resource: Resource) {}

  run(): OperationOutcomeIssue[] {
    this.visit(this.resource, undefined);
    return this.issues;
  }

  /** `partner` is the primitive value a `_name` object (or array item) extends; ele-1 counts that value. */
  private visit(value: unknown, partner: unknown): void {
    if (typeof value !== 'object' || value === null) {
      return;
    }
    if (Array.isArray(value)) {
      if (value.length === 0) {
        this.report('value', EMPTY);
      }
      for (let i = 0; i < value.length; i++) {
        this.steps.push(i);
        this.visit(value[i], Array.isArray(partner) ? partner[i] : undefined);
        this.steps.pop();
      }
      return;
    }
    const object = value as Record<string, unknown>;
    const keys = Object.keys(object);
    if (keys.length === 0) {
      this.report('value', EMPTY);
    } else if (keys.length === 1 && keys[0] === 'id' && partner == null) {
      this.report('value', ONLY_ID);
    }
    for (const key of keys) {
      const child = object[key];
      this.steps.push(key);
      if (key === 'extension' || key === 'modifierExtension') {
        this.checkExtensions(child, undefined);
      }
      this.visit(child, key.startsWith('_') ? object[key.slice(1)] : undefined);
      this.steps.pop();
    }
  }

  /** Checks the extensions of an `extension` array (at the current steps) that R4, or `parent`, defines. */
  private checkExtensions(list: unknown, parent: KnownExtension | undefined): void {
    if (!Array.isArray(list)) {
      return;
    }
    for (let i = 0; i < list.length; i++) {
      const extension = list[i] as Record<string, unknown> | null;
      const url = extension?.url;
      const known = typeof url === 'string' ? (parent ? parent.parts.get(url) : knownExtension(url)) : undefined;
      if (!known || !extension) {
        continue;
      }
      this.steps.push(i);
      this.checkValue(extension, known);
      if (known.parts.size > 0) {
        this.steps.push('extension');
        this.checkExtensions(extension.extension, known);
        this.steps.pop();
      }
      this.steps.pop();
    }
  }

  private checkValue(extension: Record<string, unknown>, known: KnownExtension): void {
    for (const key of Object.keys(extension)) {
      if (key.startsWith('value') && !known.valueKeys.has(key)) {
        const allowed = known.valueKeys.size > 0 ? [...known.valueKeys].join(', ') : 'nested extensions';
        this.report('structure', `Extension '${known.url}' takes ${allowed}, not ${key}`, key);
      }
    }
  }

  private report(code: IssueCode, diagnostics: string, key?: string): void {
    const steps = key === undefined ? this.steps : [...this.steps, key];
    this.issues.push(errorIssue(code, diagnostics, fhirPathOf(this.resource, steps)));
  }
}
