// What the R4 model (fhirpath.js's fhir-context/r4) says about an element a FHIRPath Patch writes: whether it
// repeats, its type or choice types, and the model path its own children are looked up under.
import r4 from 'fhirpath/fhir-context/r4';

export interface ElementInfo {
  /** Element name as the patch gives it: `deceased`, not `deceasedBoolean`. */
  name: string;
  repeating: boolean;
  /** The type, or for a choice element (`value[x]`) every allowed type suffix (`Quantity`, `DateTime`). */
  types: string[];
  choice: boolean;
  /** Where the element's children are described: its own path for a BackboneElement, else its type. */
  childPath: string;
}

const ANONYMOUS_TYPES = new Set(['BackboneElement', 'Element']);

/** A FHIR primitive (`date`, `code`) or a FHIRPath system type (`System.String` for `id` and `url`). */
export function isPrimitiveType(type: string): boolean {
  return /^[a-z]/.test(type) || type.startsWith('System.');
}

/** The model's type name for a value[x] suffix: `Date` -> `date`, `CodeableConcept` stays. */
export function typeOfSuffix(suffix: string): string {
  const lower = suffix.charAt(0).toLowerCase() + suffix.slice(1);
  return PRIMITIVE_TYPES.has(lower) ? lower : suffix;
}

export function suffixOfType(type: string): string {
  return type.charAt(0).toUpperCase() + type.slice(1);
}

const PRIMITIVE_TYPES = new Set(
  Object.values(r4.path2Type as Record<string, string>).filter((type) => /^[a-z]/.test(type)),
);

/** True when `type` is `expected` or derives from it (Age is a Quantity, every resource a Resource). */
export function isTypeOf(type: string, expected: string): boolean {
  for (let current: string | undefined = type; current; current = parentType(current)) {
    if (current === expected) return true;
  }
  return false;
}

/** The element `name` of the node whose model path is `parentPath` (a type, or a BackboneElement's path). */
export function elementInfo(parentPath: string, name: string): ElementInfo | undefined {
  for (let owner: string | undefined = parentPath; owner; owner = parentType(owner)) {
    const found = describe(`${owner}.${name}`, name);
    if (found) return found;
  }
  return undefined;
}

function describe(path: string, name: string): ElementInfo | undefined {
  const definedAt = (r4.pathsDefinedElsewhere as Record<string, string>)[path] ?? path;
  const choices = (r4.choiceTypePaths as Record<string, string[]>)[path];
  const type = (r4.path2Type as Record<string, string>)[definedAt];
  if (!choices && !type) return undefined;
  const repeats = r4.path2Repeating as Record<string, boolean>;
  const repeating = Boolean(repeats[path] ?? repeats[definedAt]);
  const childPath = definedAt !== path || ANONYMOUS_TYPES.has(type) ? definedAt : type;
  return { name, repeating, types: choices ?? [type], choice: Boolean(choices), childPath };
}

/** The type a model path inherits its elements from: a BackboneElement's path -> BackboneElement -> Element. */
function parentType(path: string): string | undefined {
  if (path.includes('.') && !path.startsWith('System.')) return 'BackboneElement';
  const parent = (r4.type2Parent as Record<string, string>)[path];
  if (parent) return parent;
  return isPrimitiveType(path) && path !== 'Element' ? 'Element' : undefined;
}
