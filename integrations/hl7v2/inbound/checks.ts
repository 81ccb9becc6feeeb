// What an inbound channel refuses before storing a message for processing (AR with table 0357 codes):
// a type or event it has no mapping for, a version it does not read, a processing id of another environment.
import { acceptsType, type InboundChannel } from '../channels';
import { INBOUND_MAPPINGS, SUPPORTED_CODES } from '../mappings/index';
import { ERROR_CODES, type AckError } from '../message/ack';
import type { V2Header } from '../message/v2-message';

const VERSIONS = new Set([
  '2.1',
  '2.2',
  '2.3',
  '2.3.1',
  '2.4',
  '2.5',
  '2.5.1',
  '2.6',
  '2.7',
  '2.7.1',
  '2.8',
  '2.8.1',
  '2.8.2',
]);

export function refusal(channel: InboundChannel, header: V2Header): AckError | undefined {
  if (!header.controlId) {
    return {
      code: ERROR_CODES.requiredFieldMissing,
      location: 'MSH^1^10',
      text: 'MSH-10 (message control id) is empty',
    };
  }
  if (!VERSIONS.has(header.version)) {
    return {
      code: ERROR_CODES.unsupportedVersion,
      location: 'MSH^1^12',
      text: `Version ${header.version || '(empty)'} is not supported`,
    };
  }
  if (!channel.processingIds.includes(header.processingId as never)) {
    const text = `Processing id ${header.processingId || '(empty)'} is not accepted by channel ${channel.id}`;
    return { code: ERROR_CODES.unsupportedProcessingId, location: 'MSH^1^11', text };
  }
  if (!SUPPORTED_CODES.has(header.code)) {
    return {
      code: ERROR_CODES.unsupportedMessageType,
      location: 'MSH^1^9^1',
      text: `Message type ${header.code} is not supported`,
    };
  }
  if (!INBOUND_MAPPINGS.has(header.type) || !acceptsType(channel, header)) {
    return {
      code: ERROR_CODES.unsupportedEvent,
      location: 'MSH^1^9^2',
      text: `Event ${header.type} is not accepted by channel ${channel.id}`,
    };
  }
  return undefined;
}
