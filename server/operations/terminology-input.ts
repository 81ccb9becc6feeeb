// Reads the input parameters of the terminology operations from the URL (GET) and from a Parameters body
// (POST), typed: each is single-valued, and a value of the wrong form is a 400 naming the parameter. On the
// URL, a Coding may be written `system|code` (a convenience: R4 only defines complex inputs for POST).
import type { CodeableConcept, Coding, Parameters, ParametersParameter, Resource } from '@medplum/fhirtypes';
import { badRequest } from '../../resources/errors';
import type { CodingToValidate } from '../../resources/terminology/validate-code';
import type { FhirRequest } from '../fhir/context';
import { queryValues } from './operation';

const BOOLEANS: Record<string, boolean> = { true: true, false: false };
const INTEGER = /^-?\d+$/;

export class TerminologyInput {
  private readonly body: ParametersParameter[];

  constructor(private readonly request: FhirRequest) {
    const body = request.body as Parameters | undefined;
    if (body !== undefined && body !== null && (body as Resource).resourceType !== 'Parameters') {
      throw badRequest('The body of a terminology operation must be a Parameters resource', 'Parameters');
    }
    this.body = body?.parameter ?? [];
  }

  /** The names given, in the order given, for echoing. */
  get names(): string[] {
    return [...this.request.query.map(([name]) => name), ...this.body.map((p) => p.name)];
  }

  string(name: string): string | undefined {
    const fromQuery = this.queryValue(name);
    if (fromQuery !== undefined) return fromQuery;
    const parameter = this.bodyValue(name);
    if (!parameter) return undefined;
    const value = parameter.valueString ?? parameter.valueUri ?? parameter.valueCode ?? parameter.valueCanonical;
    if (typeof value !== 'string') throw badRequest(`Parameter ${name} must have a string value`, name);
    return value;
  }

  boolean(name: string): boolean | undefined {
    const fromQuery = this.queryValue(name);
    if (fromQuery !== undefined) {
      const value = BOOLEANS[fromQuery];
      if (value === undefined) throw badRequest(`Parameter ${name} must be true or false`, name);
      return value;
    }
    const parameter = this.bodyValue(name);
    if (!parameter) return undefined;
    if (typeof parameter.valueBoolean !== 'boolean') throw badRequest(`Parameter ${name} must be a boolean`, name);
    return parameter.valueBoolean;
  }

  integer(name: string): number | undefined {
    const fromQuery = this.queryValue(name);
    if (fromQuery !== undefined) {
      if (!INTEGER.test(fromQuery)) throw badRequest(`Parameter ${name} must be an integer`, name);
      return Number(fromQuery);
    }
    const parameter = this.bodyValue(name);
    if (!parameter) return undefined;
    if (!Number.isInteger(parameter.valueInteger)) throw badRequest(`Parameter ${name} must be an integer`, name);
    return parameter.valueInteger;
  }

  coding(name: string): Coding | undefined {
    const fromQuery = this.queryValue(name);
    if (fromQuery !== undefined) return codingFromText(name, fromQuery);
    const parameter = this.bodyValue(name);
    if (!parameter) return undefined;
    return checkedCoding(name, parameter.valueCoding);
  }

  codeableConcept(name: string): CodeableConcept | undefined {
    if (this.queryValue(name) !== undefined)
      throw badRequest(`Parameter ${name} can only be sent in a POST body`, name);
    const parameter = this.bodyValue(name);
    if (!parameter) return undefined;
    const concept = parameter.valueCodeableConcept;
    if (!concept || !Array.isArray(concept.coding) || concept.coding.length === 0) {
      throw badRequest(`Parameter ${name} must be a CodeableConcept with at least one coding`, name);
    }
    concept.coding.forEach((coding) => checkedCoding(name, coding));
    return concept;
  }

  resource<T extends Resource>(name: string, type: T['resourceType']): T | undefined {
    if (this.queryValue(name) !== undefined)
      throw badRequest(`Parameter ${name} can only be sent in a POST body`, name);
    const parameter = this.bodyValue(name);
    if (!parameter) return undefined;
    if (parameter.resource?.resourceType !== type) throw badRequest(`Parameter ${name} must be a ${type}`, name);
    return parameter.resource as T;
  }

  /** Parameters the server does not implement: naming one is a 400 rather than a silently different answer. */
  refuse(names: readonly string[]): void {
    const given = new Set(this.names);
    const refused = names.find((name) => given.has(name));
    if (refused) throw badRequest(`Parameter ${refused} is not supported by this server`, refused);
  }

  private queryValue(name: string): string | undefined {
    const values = queryValues(this.request, name);
    if (values.length > 1) throw badRequest(`Parameter ${name} may be given only once`, name);
    return values[0];
  }

  private bodyValue(name: string): ParametersParameter | undefined {
    const values = this.body.filter((p) => p.name === name);
    if (values.length > 1) throw badRequest(`Parameter ${name} may be given only once`, name);
    return values[0];
  }
}

function codingFromText(name: string, text: string): Coding {
  const bar = text.lastIndexOf('|');
  if (bar <= 0 || bar === text.length - 1) {
    throw badRequest(`Parameter ${name} on the URL must be written system|code`, name);
  }
  return { system: text.slice(0, bar), code: text.slice(bar + 1) };
}

function checkedCoding(name: string, coding: Coding | undefined): Coding {
  if (!coding || typeof coding.code !== 'string' || coding.code === '') {
    throw badRequest(`Parameter ${name} must be a Coding with a code`, name);
  }
  if (coding.system !== undefined && typeof coding.system !== 'string') {
    throw badRequest(`Parameter ${name} has a system that is not a string`, name);
  }
  return coding;
}

/** The code to check from code (+system, display), coding or codeableConcept: exactly one of them. */
export function codingsToValidate(input: TerminologyInput, versionParameter: string): CodingToValidate[] {
  const code = input.string('code');
  const coding = input.coding('coding');
  const concept = input.codeableConcept('codeableConcept');
  const given = [code, coding, concept].filter((v) => v !== undefined).length;
  if (given !== 1) throw badRequest('Give exactly one of code (with system), coding or codeableConcept', 'code');
  const display = input.string('display');
  if (code !== undefined) {
    return [{ code, system: input.string('system'), version: input.string(versionParameter), display }];
  }
  const codings = coding ? [coding] : (concept?.coding ?? []);
  return codings.map((c) => ({
    code: c.code as string,
    system: c.system,
    version: c.version,
    display: coding && display !== undefined ? display : c.display,
  }));
}
