// A minimal FHIR TestScript runner for the mock.health conformance scripts (test/fixtures/mock-health):
// GET operations with the upstream URL and header rules, and the assert operators those scripts use.
// Unknown operations, assert kinds or operators are errors, so a new script cannot pass silently.
import fs from 'node:fs';
import path from 'node:path';

export interface ScriptResult {
  file: string;
  profile: string;
  bucket: string;
  passed: boolean;
  /** Why it failed: the first failing assert, or the error. */
  detail?: string;
}

interface Operation {
  type?: { code?: string };
  resource?: string;
  params?: string;
  pathFromRoot?: boolean;
  requestHeader?: { field: string; value: string }[];
}

interface Assert {
  label?: string;
  operator?: string;
  value?: string;
  responseCode?: string;
  contentType?: string;
  headerField?: string;
  responseBody?: string;
  warningOnly?: boolean;
  [key: string]: unknown;
}

interface TestScript {
  test?: { action?: { operation?: Operation; assert?: Assert }[] }[];
}

interface Response {
  status: number;
  headers: Headers;
  body: string;
}

const ASSERT_KEYS = new Set(['label', 'description', 'operator', 'value', 'warningOnly', 'direction']);

/** Every `*.json` below `dir`, with its profile (path below `dir` without the bucket) and bucket folder. */
export function findScripts(dir: string): { file: string; profile: string; bucket: string }[] {
  const out: { file: string; profile: string; bucket: string }[] = [];
  const walk = (current: string): void => {
    for (const entry of fs.readdirSync(current, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const full = path.join(current, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.json')) {
        const parts = path.relative(dir, full).split(path.sep);
        out.push({ file: parts.join('/'), bucket: parts[parts.length - 2], profile: parts.slice(0, -2).join('/') });
      }
    }
  };
  walk(dir);
  return out;
}

export function buildUrl(base: string, op: Operation): string {
  const origin = new URL(base).origin;
  const root = op.pathFromRoot ? origin : base;
  const code = op.type?.code;
  const params = op.params ?? '';
  if (code === 'capabilities') return `${root}/metadata`;
  if (code === 'history' && op.resource) return `${root}/${op.resource}/_history${params}`;
  if (code !== 'search' && code !== 'read' && code !== 'history') throw new Error(`unsupported operation ${code}`);
  if (params === '' || params.startsWith('/') || params.startsWith('?')) {
    return op.resource ? `${root}/${op.resource}${params}` : `${root}${params}`;
  }
  return `${root}/${op.resource}/${params}`;
}

async function perform(base: string, op: Operation, authorization?: string): Promise<Response> {
  const headers: Record<string, string> = { Accept: 'application/fhir+json', 'Content-Type': 'application/fhir+json' };
  // The client's token; a script's own Authorization header (a probe without one) replaces it below.
  if (authorization) headers.Authorization = authorization;
  for (const h of op.requestHeader ?? []) {
    const existing = Object.keys(headers).find((k) => k.toLowerCase() === h.field.toLowerCase());
    if (existing) delete headers[existing];
    headers[h.field] = h.value;
  }
  const res = await fetch(buildUrl(base, op), { method: 'GET', headers, redirect: 'manual' });
  return { status: res.status, headers: res.headers, body: await res.text() };
}

function matchesMimeClass(actual: string, expected: string): boolean {
  const mime = actual.split(';')[0].trim().toLowerCase();
  const [type, subtype = ''] = mime.split('/');
  const [sub, suffix] = subtype.split('+');
  return type === 'application' && (sub === expected || suffix === expected);
}

function compare(operator: string, actual: string | undefined, expected: string | undefined): boolean {
  const value = actual ?? '';
  const want = expected ?? '';
  switch (operator) {
    case 'equals':
      return actual !== undefined && value === want;
    case 'notEquals':
      return value !== want;
    case 'in':
      return want
        .split(',')
        .map((s) => s.trim())
        .includes(value);
    case 'notIn':
      return !want
        .split(',')
        .map((s) => s.trim())
        .includes(value);
    case 'contains':
      return value.includes(want);
    case 'notContains':
      return !value.includes(want);
    case 'empty':
      return value.trim() === '';
    case 'notEmpty':
      return value.trim() !== '';
    case 'greaterThan':
      return Number(value) > Number(want);
    case 'lessThan':
      return Number(value) < Number(want);
    case 'matchesRegex':
      return new RegExp(want, 'is').test(value);
    case 'matchesMimeClass':
      return matchesMimeClass(value, want);
    default:
      throw new Error(`unsupported operator ${operator}`);
  }
}

/** Returns undefined when the assert passes, else why it failed. */
function checkAssert(a: Assert, res: Response): string | undefined {
  const kinds = Object.keys(a).filter((k) => !ASSERT_KEYS.has(k));
  const kind = kinds.find((k) =>
    ['responseCode', 'contentType', 'headerField', 'responseBody', 'response'].includes(k),
  );
  const unknown = kinds.filter((k) => k !== kind);
  if (!kind || unknown.length > 0) throw new Error(`unsupported assert ${kinds.join(', ')}`);
  let actual: string | undefined;
  let expected: string | undefined;
  let operator = a.operator ?? 'equals';
  switch (kind) {
    case 'responseCode':
      actual = String(res.status);
      expected = a.responseCode;
      break;
    case 'contentType':
      actual = res.headers.get('content-type') ?? undefined;
      expected = a.contentType;
      break;
    case 'headerField':
      actual = res.headers.get(a.headerField as string) ?? undefined;
      expected = a.value;
      break;
    case 'responseBody':
      actual = res.body;
      expected = a.responseBody;
      operator = a.operator ?? 'contains';
      break;
    default:
      if (a.response !== 'okay') throw new Error(`unsupported response assert ${String(a.response)}`);
      return res.status >= 200 && res.status < 300 ? undefined : `response: status ${res.status} is not 2xx`;
  }
  if (compare(operator, actual, expected)) return undefined;
  return `${a.label ?? kind}: ${kind} ${operator} ${expected ?? ''} failed (status ${res.status}, actual ${String(actual).slice(0, 120)})`;
}

export async function runScript(
  base: string,
  script: TestScript,
  authorization?: string,
): Promise<{ passed: boolean; detail?: string }> {
  for (const test of script.test ?? []) {
    let last: Response | undefined;
    for (const action of test.action ?? []) {
      if (action.operation) last = await perform(base, action.operation, authorization);
      else if (action.assert) {
        if (!last) throw new Error('assert without an earlier operation');
        const failure = checkAssert(action.assert, last);
        if (failure && !action.assert.warningOnly) return { passed: false, detail: failure };
      } else throw new Error('action with neither operation nor assert');
    }
  }
  return { passed: true };
}

/** Runs every script under `dir`, sending `authorization` (a bearer token) with each request. */
export async function runScripts(base: string, dir: string, authorization?: string): Promise<ScriptResult[]> {
  const results: ScriptResult[] = [];
  for (const { file, profile, bucket } of findScripts(dir)) {
    const script = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')) as TestScript;
    try {
      results.push({ file, profile, bucket, ...(await runScript(base, script, authorization)) });
    } catch (err) {
      results.push({ file, profile, bucket, passed: false, detail: `error: ${(err as Error).message}` });
    }
  }
  return results;
}
