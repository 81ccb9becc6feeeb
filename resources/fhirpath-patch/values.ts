// Turns the `value` of a FHIRPath Patch operation into the JSON stored for an element: checks the value's
// type against the R4 model, picks the JSON key of a choice element (`deceased` + Boolean), and builds a
// complex value given as nested parts (an anonymous BackboneElement such as Patient.contact, or a HumanName).
import { unprocessable } from '../errors';
import { elementInfo, isPrimitiveType, isTypeOf, typeOfSuffix, type ElementInfo } from './model';
import { patchValue, type PatchValue } from './parse';
import { insertItem, isJson, listAt, type Json } from './slots';

export interface ElementValue {
  /** The JSON key: the element name, with the type appended for a choice element. */
  key: string;
  value: unknown;
  /** The `_name` sibling of a primitive value (its id and extensions), when the patch gave one. */
  extension?: unknown;
}

export function elementValue(info: ElementInfo, value: PatchValue, where: string): ElementValue {
  if (value.kind === 'resource') {
    if (!info.types.includes('Resource')) throw wrongType(info, 'a resource', where);
    return { key: info.name, value: value.value };
  }
  if (value.kind === 'parts') {
    if (info.choice || isPrimitiveType(info.types[0])) {
      throw unprocessable(`${where}: ${info.name} needs a typed value[x], not parts`, where);
    }
    return { key: info.name, value: fromParts(info.childPath, value.parts, where) };
  }
  const type = typeOfSuffix(value.type);
  const key = info.choice ? choiceKey(info, type, where) : checkedKey(info, type, where);
  if (!isPrimitiveType(type) && !isJson(value.value)) {
    throw unprocessable(`${where}: value${value.type} must be an object`, where);
  }
  return { key, value: value.value, extension: value.extension };
}

function choiceKey(info: ElementInfo, type: string, where: string): string {
  const suffix =
    info.types.find((allowed) => typeOfSuffix(allowed) === type) ??
    info.types.find((allowed) => isTypeOf(type, typeOfSuffix(allowed)));
  if (!suffix) throw wrongType(info, type, where);
  return `${info.name}${suffix}`;
}

/** Any primitive may stand for another (valueString for a code or xhtml); a complex type must match. */
function checkedKey(info: ElementInfo, type: string, where: string): string {
  const expected = info.types[0];
  const fits = isPrimitiveType(expected) ? isPrimitiveType(type) : !isPrimitiveType(type) && isTypeOf(type, expected);
  if (!fits) throw wrongType(info, type, where);
  return info.name;
}

function wrongType(info: ElementInfo, got: string, where: string) {
  return unprocessable(`${where}: ${info.name} takes ${info.types.join(' or ')}, not ${got}`, where);
}

/** A complex value written as parts: each part is a child element by name, repeated for a list. */
function fromParts(modelPath: string, parts: unknown[], where: string): Json {
  const result: Json = {};
  parts.forEach((part, i) => {
    const at = `${where}.part[${i}]`;
    const name = isJson(part) ? part.name : undefined;
    if (typeof name !== 'string') throw unprocessable(`${at}: a part needs the name of an element`, at);
    const info = elementInfo(modelPath, name);
    if (!info) throw unprocessable(`${at}: ${modelPath} has no element "${name}"`, at);
    const { key, value, extension } = elementValue(info, patchValue(part as Json, at), at);
    if (info.repeating) {
      insertItem(result, key, listAt(result, key).length, value, extension);
    } else if (Object.hasOwn(result, key)) {
      throw unprocessable(`${at}: ${name} is given twice but holds one value`, at);
    } else {
      result[key] = value;
      if (extension !== undefined) result[`_${key}`] = extension;
    }
  });
  return result;
}
