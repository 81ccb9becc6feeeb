// The shape every inbound mapping has: a pure function from a parsed message and its channel's context to
// a FHIR transaction Bundle.
import type { Bundle } from '@medplum/fhirtypes';
import type { V2Message } from '../message/v2-message';
import type { MappingContext } from './context';

export type InboundMapping = (message: V2Message, context: MappingContext) => Bundle;

/** A message the mapping cannot turn into resources: becomes an AE with this ERR location and code. */
export class MappingError extends Error {
  constructor(
    message: string,
    /** ERR-2 location, e.g. `PID^1^3`. */
    readonly location?: string,
    /** Table 0357 code; 101 (required field missing) unless said otherwise. */
    readonly code = '101',
  ) {
    super(message);
  }
}
