// Where an element selected by a FHIRPath expression lives in the resource's JSON (the object, key and array
// index holding it), and edits of that place that keep a primitive's `_name` sibling (its id and extensions)
// in step with the value.
import { suffixOfType } from './model';

export type Json = Record<string, unknown>;

/** The parts of a fhirpath.js ResourceNode this module reads (evaluated with resolveInternalTypes: false). */
export interface ResourceNode {
  data: unknown;
  _data: unknown;
  parentResNode: ResourceNode | null;
  path: string | null;
  fhirNodeDataType: string | null;
  propName: string | null;
  index: number | null;
}

export interface Slot {
  owner: Json;
  key: string;
  /** Set when the element is an item of a list. */
  index?: number;
}

export function isResourceNode(value: unknown): value is ResourceNode {
  return typeof value === 'object' && value !== null && 'parentResNode' in value && 'propName' in value;
}

export function isJson(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The JSON object holding a node's children: the node itself, or the `_name` object of a primitive. */
export function childrenOf(node: ResourceNode): Json | undefined {
  if (isJson(node.data)) return node.data;
  return isJson(node._data) ? node._data : undefined;
}

/** The node's place in its parent; undefined for the resource itself. */
export function slotOf(node: ResourceNode): Slot | undefined {
  const parent = node.parentResNode;
  const owner = parent ? childrenOf(parent) : undefined;
  if (!owner || node.propName === null) return undefined;
  const key = jsonKey(owner, node.propName, node.fhirNodeDataType);
  if (key === undefined) return undefined;
  return node.index === null ? { owner, key } : { owner, key, index: node.index };
}

/** `deceased` is stored as `deceasedBoolean`: the JSON key of a choice element carries its type. */
function jsonKey(owner: Json, name: string, type: string | null): string | undefined {
  const present = (key: string) => Object.hasOwn(owner, key) || Object.hasOwn(owner, `_${key}`);
  if (present(name)) return name;
  const typed = type ? `${name}${suffixOfType(type.replace(/^System\./, ''))}` : undefined;
  if (typed && present(typed)) return typed;
  const candidates = Object.keys(owner).filter((key) => key.startsWith(name) && /^[A-Z]/.test(key.slice(name.length)));
  return candidates.length === 1 ? candidates[0] : undefined;
}

export function listAt(owner: Json, key: string): unknown[] {
  const list = owner[key];
  return Array.isArray(list) ? list : [];
}

/** Sets a singleton element, replacing a choice element stored under another type (`valueString` -> `valueQuantity`). */
export function setSingle(owner: Json, key: string, value: unknown, extension: unknown, replacing?: string): void {
  if (replacing !== undefined && replacing !== key) removeKey(owner, replacing);
  owner[key] = value;
  if (extension === undefined) delete owner[`_${key}`];
  else owner[`_${key}`] = extension;
}

export function setItem(owner: Json, key: string, index: number, value: unknown, extension: unknown): void {
  listAt(owner, key)[index] = value;
  const extensions = owner[`_${key}`];
  if (Array.isArray(extensions)) extensions[index] = extension ?? null;
  else if (extension !== undefined) owner[`_${key}`] = aligned(owner, key, index, extension);
  tidyExtensions(owner, key);
}

export function insertItem(owner: Json, key: string, index: number, value: unknown, extension: unknown): void {
  const list = listAt(owner, key);
  const extensions = owner[`_${key}`];
  if (Array.isArray(extensions) || extension !== undefined) {
    const padded = Array.isArray(extensions) ? extensions : [];
    while (padded.length < list.length) padded.push(null);
    padded.splice(index, 0, extension ?? null);
    owner[`_${key}`] = padded;
  }
  list.splice(index, 0, value);
  owner[key] = list;
  tidyExtensions(owner, key);
}

export function removeItem(owner: Json, key: string, index: number): void {
  listAt(owner, key).splice(index, 1);
  const extensions = owner[`_${key}`];
  if (Array.isArray(extensions)) extensions.splice(index, 1);
  if (listAt(owner, key).length === 0) delete owner[key];
  tidyExtensions(owner, key);
}

export function moveItem(owner: Json, key: string, from: number, to: number): void {
  const move = (list: unknown[]) => list.splice(to, 0, list.splice(from, 1)[0]);
  move(listAt(owner, key));
  const extensions = owner[`_${key}`];
  if (Array.isArray(extensions)) {
    while (extensions.length < listAt(owner, key).length) extensions.push(null);
    move(extensions);
  }
}

export function removeKey(owner: Json, key: string): void {
  delete owner[key];
  delete owner[`_${key}`];
}

export function removeSlot(slot: Slot): void {
  if (slot.index === undefined) removeKey(slot.owner, slot.key);
  else removeItem(slot.owner, slot.key, slot.index);
}

/** Drops the `_name` sibling of a primitive whose id and extensions are all gone, keeping its value. */
export function clearExtension(slot: Slot): void {
  const extensions = slot.owner[`_${slot.key}`];
  if (slot.index !== undefined && Array.isArray(extensions)) extensions[slot.index] = null;
  else delete slot.owner[`_${slot.key}`];
  tidyExtensions(slot.owner, slot.key);
}

/** A `_name` list with `extension` at `index` and nulls elsewhere, as long as the value list. */
function aligned(owner: Json, key: string, index: number, extension: unknown): unknown[] {
  const list: unknown[] = listAt(owner, key).map(() => null);
  list[index] = extension;
  return list;
}

/** Drops a `_name` list that carries nothing any more, so the JSON stays canonical. */
function tidyExtensions(owner: Json, key: string): void {
  const extensions = owner[`_${key}`];
  if (Array.isArray(extensions) && extensions.every((item) => item === null || item === undefined)) {
    delete owner[`_${key}`];
  }
}
