// One concept as the terminology operations see it, from a code system's index or only from a value set.
import type { CodeSystemConceptDesignation, CodeSystemConceptProperty } from '@medplum/fhirtypes';
import { foldText, searchableText } from './text';

export interface Concept {
  /** Its place in CodeSystemIndex.concepts; -1 for a concept known only from a value set. */
  position: number;
  code: string;
  display?: string;
  definition?: string;
  designation?: CodeSystemConceptDesignation[];
  property?: CodeSystemConceptProperty[];
  /** Positions (in CodeSystemIndex.concepts) of the direct parents and children. */
  parents: number[];
  children: number[];
  inactive: boolean;
  /** Not for use in records (`notSelectable` or `abstract` property): listed with `abstract: true`. */
  abstract: boolean;
  /** Folded display words, for word-prefix matching (text.ts). */
  searchText: string;
  foldedCode: string;
}

/** A concept known only from a value set (an enumerated code of a system the server has no concepts for). */
export function listedConcept(code: string, display: string | undefined, inactive = false): Concept {
  return {
    position: -1,
    code,
    display,
    parents: [],
    children: [],
    inactive,
    abstract: false,
    searchText: searchableText(display),
    foldedCode: foldText(code),
  };
}
