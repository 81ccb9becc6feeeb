// Parameters stored as the union of others (registry `unionOf`) have no index entries of their own: this
// finds the ones a query uses, per resource type, so the store reads the members' entries instead.
import type { Condition, SearchQuery } from './query';
import type { SearchParameterRegistry } from './registry';

export type ParameterUnions = NonNullable<SearchQuery['unions']>;

/** The unions the query's conditions and sort keys touch; undefined when there are none. */
export function parameterUnions(registry: SearchParameterRegistry, query: SearchQuery): ParameterUnions | undefined {
  const unions: ParameterUnions = {};
  const note = (types: readonly string[], code: string) => {
    for (const type of types) {
      const members = registry.get(type, code)?.unionOf;
      if (members) (unions[type] ??= {})[code] = members;
    }
  };
  const visit = (condition: Condition, types: readonly string[]) => {
    if (condition.kind === 'chain') visit(condition.condition, condition.targetTypes);
    else if (condition.kind === 'has') visit(condition.condition, [condition.sourceType]);
    else if ('param' in condition) note(types, condition.param);
  };
  query.conditions.forEach((condition) => visit(condition, query.resourceTypes));
  query.sort.forEach((rule) => note(query.resourceTypes, rule.param));
  return Object.keys(unions).length > 0 ? unions : undefined;
}

/** The parameter codes whose index entries stand for `code` on `resourceType`. */
export function storedCodes(
  unions: ParameterUnions | undefined,
  resourceType: string,
  code: string,
): readonly string[] {
  return unions?.[resourceType]?.[code] ?? [code];
}
