// A reference search value that is an absolute URL on this server's own base (`<BASE_URL>/Patient/1`) means
// the local `Patient/1` (R4 search.html#reference: a server SHOULD treat its own absolute URLs as relative),
// which resources usually store as a relative reference.
import type { Condition, ReferenceValue } from './query';
import { parseReference } from './types/reference';

export function localizeReferences(conditions: Condition[], baseUrl: string): Condition[] {
  const prefix = `${baseUrl.replace(/\/+$/, '')}/`;
  const value = (v: ReferenceValue): ReferenceValue => {
    // What follows the base must be a relative `Type/id[/_history/v]`, read as stored references are read.
    const local = v.url?.startsWith(prefix) ? parseReference(v.url.slice(prefix.length)) : undefined;
    return local?.type && local.id && !local.url ? { targetType: local.type, targetId: local.id } : v;
  };
  const visit = (condition: Condition): Condition => {
    switch (condition.kind) {
      case 'reference':
        return { ...condition, values: condition.values.map(value) };
      case 'chain':
      case 'has':
        return { ...condition, condition: visit(condition.condition) };
      case 'composite':
        return { ...condition, values: condition.values.map((v) => ({ components: v.components.map(visit) })) };
      default:
        return condition;
    }
  };
  return conditions.map(visit);
}
