// A reference search value that is an absolute URL on this server's own base (`<BASE_URL>/Patient/1`) means
// the local `Patient/1` (R4 search.html#reference: a server SHOULD treat its own absolute URLs as relative),
// which resources usually store as a relative reference.
import type { Condition, ReferenceValue } from './query';

const LOCAL_TAIL = /^([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[A-Za-z0-9\-.]{1,64})?$/;

export function localizeReferences(conditions: Condition[], baseUrl: string): Condition[] {
  const prefix = `${baseUrl.replace(/\/+$/, '')}/`;
  const value = (v: ReferenceValue): ReferenceValue => {
    const tail = v.url?.startsWith(prefix) ? LOCAL_TAIL.exec(v.url.slice(prefix.length)) : null;
    return tail ? { targetType: tail[1], targetId: tail[2] } : v;
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
