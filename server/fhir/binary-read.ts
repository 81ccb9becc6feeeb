// A Binary version as a read answers it: the stored JSON with its bytes back in as base64 `data`, or the bytes
// themselves with the stored content type and the headers that keep a browser from running them in our origin.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Binary } from '@medplum/fhirtypes';
import { withBinaryData } from '../../resources/store/binary-data';
import type { ResourceStore, StoredVersion } from '../../resources/store/port';
import { isActiveContent, servableContentType } from './binary-content';
import { etag } from './headers';

const SAFE_HEADER_VALUE = /^[\x21-\x7e]{1,1024}$/;

export interface BinaryContent {
  contentType: string;
  securityContext?: string;
  /** The Binary resource with `data`. */
  json: string;
  bytes: Buffer;
}

/** The media type a version's bytes are served as. */
export function storedContentType(stored: StoredVersion): string {
  return servableContentType((JSON.parse(stored.json as string) as Binary).contentType);
}

/** The content of a version the repository has returned (so access was checked). */
export async function binaryContent(store: ResourceStore, stored: StoredVersion): Promise<BinaryContent> {
  const json = stored.json as string;
  const resource = JSON.parse(json) as Binary;
  const reference = resource.securityContext?.reference;
  const base = {
    contentType: servableContentType(resource.contentType),
    // Only a plain reference goes into a header.
    securityContext: reference && SAFE_HEADER_VALUE.test(reference) ? reference : undefined,
  };
  // A store that keeps the bytes apart has taken `data` out of the JSON; any other keeps it inline.
  if (!store.readBinaryData) {
    return { ...base, json, bytes: Buffer.from(resource.data ?? '', 'base64') };
  }
  const bytes = await store.readBinaryData(stored.id, stored.versionId);
  return { ...base, json: withBinaryData(json, bytes), bytes: bytes ?? Buffer.alloc(0) };
}

export function sendRawBinary(
  _req: IncomingMessage,
  res: ServerResponse,
  stored: StoredVersion,
  content: BinaryContent,
): void {
  res.setHeader('Content-Type', content.contentType);
  res.setHeader('Content-Length', content.bytes.length);
  res.setHeader('ETag', etag(stored.versionId));
  res.setHeader('Last-Modified', new Date(stored.lastUpdated).toUTCString());
  // The stored type is the client's word: never let a browser guess another, nor run HTML or SVG from here.
  res.setHeader('X-Content-Type-Options', 'nosniff');
  if (isActiveContent(content.contentType)) res.setHeader('Content-Disposition', 'attachment');
  if (content.securityContext) res.setHeader('X-Security-Context', content.securityContext);
  // Node sends no body for HEAD.
  res.writeHead(200).end(content.bytes);
}
