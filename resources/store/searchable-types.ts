// Parameter types both store adapters can query (the CapabilityStatement reads this, so it never claims more).
export const SEARCHABLE_TYPES: ReadonlySet<string> = new Set([
  'string',
  'token',
  'date',
  'number',
  'quantity',
  'reference',
  'uri',
  'composite',
]);
