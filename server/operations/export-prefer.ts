// The headers a Bulk Data kick-off must carry: `Accept: application/fhir+json` (bdt refuses servers that go
// on without it) and `Prefer: respond-async`, which may come in a list with `handling=lenient` (unsupported
// parameters are then ignored and reported in the manifest instead of refused).
import { badRequest } from '../../resources/errors';
import { negotiateContentType } from '../fhir/render';

export interface ExportPreferences {
  lenient: boolean;
}

export function exportPreferences(accept: string | undefined, prefer: string | undefined): ExportPreferences {
  if (!accept) throw badRequest('A $export kick-off needs the header Accept: application/fhir+json');
  // 406 for XML, HTML and anything else that is not JSON.
  negotiateContentType(undefined, accept);
  const preferences = (prefer ?? '')
    .split(/[,;]/)
    .map((p) =>
      p
        .trim()
        .toLowerCase()
        .replace(/\s*=\s*/, '='),
    )
    .filter((p) => p !== '');
  if (!preferences.includes('respond-async')) {
    throw badRequest('A $export kick-off needs the header Prefer: respond-async');
  }
  return { lenient: preferences.includes('handling=lenient') };
}
