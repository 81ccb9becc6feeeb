// The bulk ingest's transaction Bundles, built before the clock starts. Generating and serializing ~500
// resources costs the driver ~25 ms, which on this two-core machine it took from the server while measuring
// it; like the crud suite's request bodies, the Bundles are now ready before the first one is sent. Each keeps
// only its serialized body and what the search phases need afterwards, so a million resources fit in memory.
import type { Observation, Resource } from '@medplum/fhirtypes';
import { localReference, toTransactionBundle } from './bundle';
import type { PatientRecord } from './generator';

/** What the search phases need of a record once the server has given its resources ids. */
export interface RecordSketch {
  /** Local `Patient/<generator id>` */
  patient: string;
  family: string;
  observations: { local: string; code: string; date: string }[];
}

export interface PrebuiltBundle {
  body: Buffer;
  /** The entries' local references (`Type/<generator id>`), in entry order. */
  locals: string[];
  records: RecordSketch[];
}

export function prebuildBundles(
  records: Iterable<PatientRecord>,
  options: { entriesPerBundle: number; known: ReadonlyMap<string, string> },
): PrebuiltBundle[] {
  const bundles: PrebuiltBundle[] = [];
  let batch: PatientRecord[] = [];
  let entries = 0;
  const flush = () => {
    if (batch.length > 0) bundles.push(prebuild(batch, options.known));
    batch = [];
    entries = 0;
  };
  for (const record of records) {
    batch.push(record);
    entries += record.resources.length;
    if (entries >= options.entriesPerBundle) flush();
  }
  flush();
  return bundles;
}

function prebuild(batch: PatientRecord[], known: ReadonlyMap<string, string>): PrebuiltBundle {
  const resources: Resource[] = batch.flatMap((r) => r.resources);
  return {
    body: Buffer.from(JSON.stringify(toTransactionBundle(resources, known))),
    locals: resources.map(localReference),
    records: batch.map(sketch),
  };
}

function sketch(record: PatientRecord): RecordSketch {
  const observations: RecordSketch['observations'] = [];
  for (const resource of record.resources) {
    if (resource.resourceType !== 'Observation') continue;
    const obs = resource as Observation;
    const code = obs.code?.coding?.[0]?.code;
    if (code && obs.effectiveDateTime)
      observations.push({ local: localReference(obs), code, date: obs.effectiveDateTime });
  }
  return { patient: localReference(record.patient), family: record.patient.name?.[0]?.family ?? '', observations };
}
