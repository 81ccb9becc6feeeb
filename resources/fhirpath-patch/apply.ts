// Applies a FHIRPath Patch to a copy of a resource, operation by operation (R4 fhirpatch.html). Each path is
// evaluated with fhirpath.js and the R4 model against the result so far; it must select exactly one element
// (a list for insert and move; none is allowed for delete). Any operation that cannot be applied is a 422 and
// the caller writes nothing.
import fhirpath from 'fhirpath';
import r4 from 'fhirpath/fhir-context/r4';
import type { Resource } from '@medplum/fhirtypes';
import { unprocessable } from '../errors';
import { elementInfo, type ElementInfo } from './model';
import type { FhirPathPatch, OperationType, PatchOperation } from './parse';
import {
  childrenOf,
  insertItem,
  isJson,
  isResourceNode,
  listAt,
  moveItem,
  clearExtension,
  removeSlot,
  setItem,
  setSingle,
  slotOf,
  type Json,
  type ResourceNode,
  type Slot,
} from './slots';
import { elementValue } from './values';

export function applyFhirPathPatch(resource: Resource, patch: FhirPathPatch): Resource {
  const result = structuredClone(resource) as Resource & Json;
  for (const operation of patch.operations) OPERATIONS[operation.type](result, operation);
  return result;
}

const OPERATIONS: Record<OperationType, (resource: Json, operation: PatchOperation) => void> = {
  add: addElement,
  insert: insertElement,
  delete: deleteElement,
  replace: replaceElement,
  move: moveElement,
};

/** add: sets the element `name` of the one node the path selects, or appends to it when it repeats. */
function addElement(resource: Json, op: PatchOperation): void {
  const nodes = select(resource, op);
  if (nodes.length !== 1) throw selectionError(op, nodes.length, 'adding');
  const container = nodes[0];
  const info = elementOf(container.path, op.name as string, op);
  const owner = childrenOf(container) ?? primitiveChildren(container, op);
  const { key, value, extension } = elementValue(info, op.value!, `${op.where}.value`);
  if (info.repeating) {
    insertItem(owner, key, listAt(owner, key).length, value, extension);
    return;
  }
  const existing = Object.keys(owner).find((k) => storedName(k) === info.name || (info.choice && isChoiceKey(k, info)));
  if (existing) {
    throw unprocessable(`${op.where}: ${op.path} already has ${info.name}; use replace to change it`, op.where);
  }
  setSingle(owner, key, value, extension);
}

/** insert: puts the value at `index` of the list the path selects. */
function insertElement(resource: Json, op: PatchOperation): void {
  const { slot, info } = selectList(resource, op, 'inserting');
  const length = listAt(slot.owner, slot.key).length;
  if ((op.index as number) > length) {
    throw unprocessable(`${op.where}: index ${op.index} is past the end of ${op.path} (${length} items)`, op.where);
  }
  const { value, extension } = elementValue(info, op.value!, `${op.where}.value`);
  insertItem(slot.owner, slot.key, op.index as number, value, extension);
}

/** delete: removes the one element the path selects; selecting nothing is not an error. */
function deleteElement(resource: Json, op: PatchOperation): void {
  const nodes = select(resource, op);
  if (nodes.length === 0) return;
  if (nodes.length > 1) throw selectionError(op, nodes.length, 'deleting');
  removeSlot(placeOf(nodes[0], op));
  pruneEmptyAncestors(nodes[0].parentResNode);
}

/** replace: the one element the path selects gets the new value (a choice element may change its type). */
function replaceElement(resource: Json, op: PatchOperation): void {
  const nodes = select(resource, op);
  if (nodes.length !== 1) throw selectionError(op, nodes.length, 'replacing');
  const node = nodes[0];
  const slot = placeOf(node, op);
  const info = elementOf(node.parentResNode?.path ?? null, node.propName as string, op);
  const { key, value, extension } = elementValue(info, op.value!, `${op.where}.value`);
  if (slot.index === undefined) setSingle(slot.owner, key, value, extension, slot.key);
  else setItem(slot.owner, slot.key, slot.index, value, extension);
}

/** move: moves the item at `source` of the list the path selects to `destination`. */
function moveElement(resource: Json, op: PatchOperation): void {
  const { slot } = selectList(resource, op, 'moving');
  const length = listAt(slot.owner, slot.key).length;
  for (const [name, index] of [
    ['source', op.source],
    ['destination', op.destination],
  ] as const) {
    if ((index as number) >= length) {
      throw unprocessable(`${op.where}: ${name} ${index} is outside ${op.path} (${length} items)`, op.where);
    }
  }
  moveItem(slot.owner, slot.key, op.source as number, op.destination as number);
}

function select(resource: Json, op: PatchOperation): ResourceNode[] {
  let found: unknown[];
  try {
    // trace() would otherwise print resource content to stdout.
    found = fhirpath.evaluate(resource, op.expression, {}, r4, {
      resolveInternalTypes: false,
      traceFn: () => undefined,
    });
  } catch (error) {
    const reason = String((error as Error)?.message ?? error).split('\n')[0];
    throw unprocessable(`${op.where}: the path ${op.path} cannot be evaluated: ${reason}`, op.where);
  }
  if (!found.every(isResourceNode)) {
    throw unprocessable(`${op.where}: the path ${op.path} selects a computed value, not an element`, op.where);
  }
  return found as ResourceNode[];
}

/** The list a path selects for insert and move: one or more items of the same list. */
function selectList(resource: Json, op: PatchOperation, doing: string): { slot: Slot; info: ElementInfo } {
  const nodes = select(resource, op);
  if (nodes.length === 0) {
    throw unprocessable(
      `${op.where}: no content found at ${op.path} when ${doing}; use add for a first item`,
      op.where,
    );
  }
  const slots = nodes.map((node) => placeOf(node, op));
  const first = slots[0];
  if (slots.some((slot) => slot.index === undefined || slot.owner !== first.owner || slot.key !== first.key)) {
    throw unprocessable(`${op.where}: ${op.path} is not a list when ${doing}`, op.where);
  }
  return { slot: first, info: elementOf(nodes[0].parentResNode?.path ?? null, nodes[0].propName as string, op) };
}

function placeOf(node: ResourceNode, op: PatchOperation): Slot {
  const slot = slotOf(node);
  if (!slot) throw unprocessable(`${op.where}: ${op.path} selects the resource itself or no stored element`, op.where);
  return slot;
}

function elementOf(parentPath: string | null, name: string, op: PatchOperation): ElementInfo {
  const info = parentPath ? elementInfo(parentPath, name) : undefined;
  if (!info) throw unprocessable(`${op.where}: ${parentPath ?? op.path} has no element "${name}"`, op.where);
  return info;
}

function selectionError(op: PatchOperation, count: number, doing: string) {
  return count === 0
    ? unprocessable(`${op.where}: no content found at ${op.path} when ${doing}`, op.where)
    : unprocessable(`${op.where}: ${op.path} selects ${count} elements when ${doing}; it must select one`, op.where);
}

/** Adding an extension or id to a primitive goes into its `_name` sibling, created when missing. */
function primitiveChildren(node: ResourceNode, op: PatchOperation): Json {
  const slot = placeOf(node, op);
  const holder = { ...slot, key: `_${slot.key}` };
  if (holder.index === undefined) {
    if (!isJson(slot.owner[holder.key])) slot.owner[holder.key] = {};
    return slot.owner[holder.key] as Json;
  }
  const created = {};
  setItem(slot.owner, slot.key, holder.index, listAt(slot.owner, slot.key)[holder.index], created);
  return created;
}

/** An element left without content (a contact whose only name was deleted) is removed, up the tree. */
function pruneEmptyAncestors(start: ResourceNode | null): void {
  for (let node = start; node?.parentResNode; node = node.parentResNode) {
    const children = childrenOf(node);
    if (!children || Object.keys(children).length > 0) return;
    const slot = slotOf(node);
    if (!slot) return;
    if (isJson(node.data) || node.data === null || node.data === undefined) removeSlot(slot);
    else clearExtension(slot);
  }
}

function storedName(key: string): string {
  return key.startsWith('_') ? key.slice(1) : key;
}

function isChoiceKey(key: string, info: ElementInfo): boolean {
  return info.types.some((suffix) => storedName(key) === `${info.name}${suffix}`);
}
