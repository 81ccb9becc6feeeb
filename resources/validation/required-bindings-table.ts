// The shape of the required-bindings table that required-bindings-codegen.ts writes at build time and
// required-bindings.ts checks resources with: plain JSON, so that loading it costs a parse and nothing more.

export interface TableValueSet {
  /** Canonical URL, without version. */
  url: string;
  /** The codes it contains, per code system. */
  systems: Record<string, string[]>;
}

/** A required binding that is not checked, and why. */
export interface SkippedBinding {
  valueSet: string;
  reason: string;
  /** The elements bound to it (`Attachment.contentType`; an extension's value as `url valueCode`). */
  elements: string[];
}

/** The checked bindings of one R4 extension: its value keys (`valueCode`) and its parts (by their url). */
export interface TableExtension {
  /** JSON key -> index into `valueSets`. */
  values?: Record<string, number>;
  parts?: Record<string, TableExtension>;
}

export interface BindingTable {
  valueSets: TableValueSet[];
  /**
   * Element path, as the R4 snapshots and @medplum/core's type schemas spell it (`ServiceRequest.status`,
   * `Timing.repeat.dayOfWeek`) -> index into `valueSets`. Only bindings that are checked: elements whose JSON-schema
   * enum already refuses every code outside the value set, and value sets that cannot be expanded, are left out.
   */
  elements: Record<string, number>;
  /** R4's own extensions with checked bindings, by url. */
  extensions: Record<string, TableExtension>;
  skipped: SkippedBinding[];
}
