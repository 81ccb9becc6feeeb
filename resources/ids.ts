// Resource ids: the R4 id pattern, and server-assigned ids for creates.
import { randomUUID } from 'node:crypto';
import { badRequest } from './errors';

const ID_PATTERN = /^[A-Za-z0-9\-.]{1,64}$/;

export function isValidId(id: string): boolean {
  return ID_PATTERN.test(id);
}

export function assertValidId(id: string, expression = 'id'): void {
  if (!isValidId(id)) {
    throw badRequest(`Invalid resource id: ids are 1-64 characters of A-Z, a-z, 0-9, '-' and '.'`, expression);
  }
}

export function newId(): string {
  return randomUUID();
}

/** Parses a version id from a URL or ETag; versions are positive integers here. */
export function parseVersionId(text: string): number | undefined {
  return /^[1-9][0-9]{0,15}$/.test(text) ? Number(text) : undefined;
}
