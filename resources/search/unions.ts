// Parameters stored as the union of others (registry `unionOf`) have no index entries of their own: this
// finds the ones a query uses, per resource type, so the store reads the members' entries instead.
import type { CompositeValue, Condition, SearchQuery } from './query';
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

/**
 * A composite condition as conditions on the composites that hold its entries: itself, or each member of its
 * union with the component conditions renamed (`member$i`). A value must match within one repetition of one
 * member, so members are searched one by one, never with their entries pooled.
 */
export function compositeMembers(
  unions: ParameterUnions | undefined,
  resourceTypes: readonly string[],
  condition: Extract<Condition, { kind: 'composite' }>,
): { param: string; values: CompositeValue[] }[] {
  const codes = new Set(resourceTypes.flatMap((type) => storedCodes(unions, type, condition.param)));
  return [...codes].map((code) => ({
    param: code,
    values:
      code === condition.param
        ? condition.values
        : condition.values.map((value) => ({
            components: value.components.map((c) =>
              'param' in c ? { ...c, param: code + c.param.slice(condition.param.length) } : c,
            ),
          })),
  }));
}
