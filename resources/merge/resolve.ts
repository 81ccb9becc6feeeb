// Finds the source and target patients of a merge through the caller's repository: by id (404 when unknown),
// or by identifiers, which must together find exactly one record (404 for none, 422 for several).
import type { Identifier, Patient } from '@medplum/fhirtypes';
import { notFound, unprocessable } from '../errors';
import type { Repository } from '../repository';
import type { StoredVersion } from '../store/port';
import type { PatientSelector } from './input';
import { identifierSearchValue } from '../matching/blocking';

export interface ResolvedPatient {
  stored: StoredVersion;
  patient: Patient;
}

export async function resolvePatient(
  repo: Repository,
  selector: PatientSelector,
  role: string,
): Promise<ResolvedPatient> {
  const stored =
    'id' in selector
      ? await readPatient(repo, selector.id, role)
      : await findByIdentifiers(repo, selector.identifiers, role);
  return { stored, patient: JSON.parse(stored.json as string) as Patient };
}

async function readPatient(repo: Repository, id: string, role: string): Promise<StoredVersion> {
  try {
    return await repo.read('Patient', id);
  } catch (error) {
    if ((error as { status?: number }).status === 410) throw unprocessable(`The ${role} Patient/${id} is deleted`);
    throw error;
  }
}

async function findByIdentifiers(repo: Repository, identifiers: Identifier[], role: string): Promise<StoredVersion> {
  const pairs = identifiers.map((i): [string, string] => ['identifier', identifierSearchValue(i)]);
  const { page } = await repo.search(['Patient'], [...pairs, ['_count', '2']], { internal: true });
  if (page.entries.length === 0) throw notFound(`No Patient has the ${role} identifiers`);
  if (page.entries.length > 1) throw unprocessable(`The ${role} identifiers match more than one Patient`);
  return page.entries[0];
}
