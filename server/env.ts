// Reading typed settings from environment variables, each refusal naming the variable and what it expects.

export type Env = Record<string, string | undefined>;

export class ConfigError extends Error {}

export function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be an integer between ${min} and ${max}, got "${raw}"`);
  }
  return value;
}

const FLAGS = new Map([
  ['true', true],
  ['yes', true],
  ['1', true],
  ['false', false],
  ['no', false],
  ['0', false],
]);

export function flag(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = FLAGS.get(raw.trim().toLowerCase());
  if (value === undefined) throw new ConfigError(`${name} must be true or false, got "${raw}"`);
  return value;
}

export function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const match = allowed.find((a) => a.toLowerCase() === raw.toLowerCase());
  if (!match) throw new ConfigError(`${name} must be one of ${allowed.join(', ')}, got "${raw}"`);
  return match;
}

const KIB = 1024;
const UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: KIB,
  kb: KIB,
  m: KIB ** 2,
  mb: KIB ** 2,
  g: KIB ** 3,
  gb: KIB ** 3,
};

export function byteSize(env: Env, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const match = /^(\d+)\s*([kmg]?b?)$/i.exec(raw.trim());
  if (!match) throw new ConfigError(`${name} must be a size such as 16mb or 1048576, got "${raw}"`);
  return Number(match[1]) * UNITS[match[2].toLowerCase()];
}
