// Searching the audit trail through the FHIR API (GET [base]/AuditEvent?...): the parameters auditors use,
// mapped onto the audit log's columns. Anything else is refused with a 400 naming it, never ignored, so an
// auditor never reads a wider answer than they asked for.
import { badRequest } from '../errors';
import { DEFAULT_COUNT, MAX_COUNT, type SearchParamPairs } from '../search/parse';
import { dateRange } from '../search/types/date';
import type { AuditQuery } from './record';

const DATE_PREFIX = /^(eq|ge|gt|le|lt)?(.*)$/;

type Apply = (query: AuditQuery, value: string) => void;

const PARAMETERS: Record<string, Apply> = {
  patient: (q, v) => (q.patient = v.replace(/^Patient\//, '')),
  'entity:Patient': (q, v) => (q.patient = v.replace(/^Patient\//, '')),
  agent: (q, v) => (q.agent = v),
  subtype: (q, v) => (q.subtype = v.split(',').map((code) => code.slice(code.indexOf('|') + 1))),
  outcome: (q, v) => (q.outcome = v.split(',').map((code) => code.slice(code.indexOf('|') + 1))),
  date: (q, v) => applyDate(q, v),
  _count: (q, v) => (q.count = count(v)),
  _cursor: (q, v) => (q.cursor = v),
};

/** Result parameters the HTTP layer reads itself. */
const IGNORED = new Set(['_format', '_pretty', '_total']);

export function parseAuditSearch(params: SearchParamPairs): { query: AuditQuery; applied: SearchParamPairs } {
  const query: AuditQuery = { count: DEFAULT_COUNT };
  const applied: SearchParamPairs = [];
  for (const [name, value] of params) {
    if (IGNORED.has(name)) continue;
    const apply = PARAMETERS[name];
    if (!apply) {
      throw badRequest(
        `AuditEvent search supports ${Object.keys(PARAMETERS).join(', ')}; ${name} is not supported`,
        name,
      );
    }
    apply(query, value);
    if (name !== '_cursor') applied.push([name, value]);
  }
  return { query, applied };
}

function count(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw badRequest('_count must be a non-negative integer', '_count');
  return Math.min(n, MAX_COUNT);
}

function applyDate(query: AuditQuery, value: string): void {
  const [, prefix = 'eq', date] = DATE_PREFIX.exec(value) as RegExpExecArray;
  const covered = dateRange(date);
  if (!covered) throw badRequest(`date: "${value}" is not a date`, 'date');
  const { low, high } = covered;
  if (prefix === 'eq' || prefix === 'ge' || prefix === 'gt')
    query.since = Math.max(query.since ?? -Infinity, prefix === 'gt' ? high + 1 : low);
  if (prefix === 'eq' || prefix === 'le' || prefix === 'lt')
    query.until = Math.min(query.until ?? Infinity, prefix === 'lt' ? low - 1 : high);
}
