// Turns committed FHIR changes into queued outbound HL7 messages: for each outbound channel that carries the
// event, read what the message needs (patient, requester, visit), build it, and store it in the channel's
// durable queue keyed by the source version, so a change handled twice (a restart's catch-up) queues once.
// Changes written by the bridge itself (meta.source hl7v2:...) are not echoed back.
import type {
  ChargeItem,
  Encounter,
  Patient,
  Practitioner,
  Reference,
  Resource,
  ServiceRequest,
  Specimen,
} from '@medplum/fhirtypes';
import { createHash } from 'node:crypto';
import { SYSTEM_ACCESS } from '../../../resources/access';
import { FhirError } from '../../../resources/errors';
import { Repository, type RepositoryServices } from '../../../resources/repository';
import type { StoredVersion } from '../../../resources/store/port';
import type { OutboundChannel } from '../channels';
import { newControlId } from '../message/ack';
import { encodeText } from '../message/charset';
import type { MessageStore, StoredMessage } from '../message-store/port';
import { buildAdtMessage } from './builders/adt';
import { buildChargeMessage } from './builders/charge';
import { buildOrderMessage } from './builders/order';
import { OutboundBuildError, type OutboundHeader } from './builders/segments';
import { adtTrigger, chargeEvent, inCategories, orderEvent } from './events';

interface Built {
  text: string;
  type: string;
  patient?: Patient;
}

export class OutboundRouter {
  private readonly repo: Repository;
  private readonly baseUrl?: string;

  constructor(
    private readonly store: MessageStore,
    services: RepositoryServices,
    private readonly channels: () => readonly OutboundChannel[],
    private readonly queued: (channel: string) => void,
    private readonly failed: (channel: string, error: unknown) => void,
  ) {
    this.repo = new Repository(services, SYSTEM_ACCESS);
    this.baseUrl = services.baseUrl;
  }

  /** True when some outbound channel is enabled (otherwise changes need not be looked at). */
  active(): boolean {
    return this.channels().some((c) => c.enabled);
  }

  /**
   * Queues the messages the versions call for; resolves once they are durable. Rejects when the store fails
   * (the caller replays); a change that cannot be made into a message is reported through `failed` instead.
   */
  async handle(versions: readonly StoredVersion[]): Promise<void> {
    for (const version of versions) {
      if (version.deleted || !version.json) continue;
      const current = JSON.parse(version.json as string) as Resource;
      if (current.meta?.source?.startsWith('hl7v2:')) continue;
      for (const channel of this.channels()) {
        if (!channel.enabled) continue;
        // A change that cannot make a message is reported and skipped; a failure to read or to queue is thrown,
        // so the feed keeps its mark and replays the change rather than lose it.
        const built = await this.build(channel, version, current);
        if (built) await this.enqueue(channel, version, built, current);
      }
    }
  }

  private async build(channel: OutboundChannel, version: StoredVersion, current: Resource): Promise<Built | undefined> {
    const wants = (event: OutboundChannel['events'][number]) => channel.events.includes(event);
    if (
      current.resourceType === 'ServiceRequest' &&
      wants('lab-order') &&
      inCategories(current, channel.orderCategories)
    ) {
      return this.order(channel, version, current);
    }
    if (current.resourceType === 'ChargeItem' && wants('charge')) return this.charge(channel, version, current);
    if ((current.resourceType === 'Patient' || current.resourceType === 'Encounter') && wants('adt')) {
      return this.adt(channel, version, current);
    }
    return undefined;
  }

  private async order(
    channel: OutboundChannel,
    version: StoredVersion,
    request: ServiceRequest,
  ): Promise<Built | undefined> {
    const event = orderEvent(await this.previous<ServiceRequest>(version), request);
    if (!event) return undefined;
    const patient = await this.target<Patient>(request.subject, 'Patient');
    if (!patient) return this.unbuildable(channel, request, 'subject');
    const specimen = (
      await Promise.all((request.specimen ?? []).map((s) => this.target<Specimen>(s, 'Specimen')))
    ).filter((s): s is Specimen => s !== undefined);
    const input = {
      serviceRequest: request,
      patient,
      requester: await this.target<Practitioner>(request.requester, 'Practitioner'),
      encounter: await this.target<Encounter>(request.encounter, 'Encounter'),
      ...(specimen.length ? { specimen } : {}),
      structure: channel.orderStructure,
      event,
    };
    const type = channel.orderStructure === 'ORM_O01' ? 'ORM^O01' : 'OML^O21';
    return this.made(channel, () => buildOrderMessage(input, header(channel)), type, patient);
  }

  private async charge(channel: OutboundChannel, version: StoredVersion, item: ChargeItem): Promise<Built | undefined> {
    if (!chargeEvent(await this.previous<ChargeItem>(version), item)) return undefined;
    const patient = await this.target<Patient>(item.subject, 'Patient');
    if (!patient) return this.unbuildable(channel, item, 'subject');
    const input = {
      chargeItem: item,
      patient,
      encounter: await this.target<Encounter>(item.context, 'Encounter'),
      performer: await this.target<Practitioner>(item.performer?.[0]?.actor, 'Practitioner'),
    };
    return this.made(channel, () => buildChargeMessage(input, header(channel)), 'DFT^P03', patient);
  }

  private async adt(
    channel: OutboundChannel,
    version: StoredVersion,
    current: Patient | Encounter,
  ): Promise<Built | undefined> {
    const trigger = adtTrigger(await this.previous(version), current);
    if (!trigger) return undefined;
    const patient =
      current.resourceType === 'Patient' ? current : await this.target<Patient>(current.subject, 'Patient');
    if (!patient) return this.unbuildable(channel, current, 'subject');
    const encounter = current.resourceType === 'Encounter' ? current : undefined;
    const attendingRef = encounter?.participant?.find((p) =>
      p.type?.some((t) => t.coding?.some((c) => c.code === 'ATND')),
    )?.individual;
    const attending = await this.target<Practitioner>(attendingRef, 'Practitioner');
    const input = { trigger, patient, encounter, attending };
    return this.made(channel, () => buildAdtMessage(input, header(channel)), `ADT^${trigger}`, patient);
  }

  /** The builder's text; a change it cannot make a message of (no code, no id) is reported and skipped. */
  private made(channel: OutboundChannel, make: () => string, type: string, patient: Patient): Built | undefined {
    try {
      return { text: make(), type, patient };
    } catch (error) {
      this.failed(channel.id, error);
      return undefined;
    }
  }

  /** A message needs the patient: a change whose subject cannot be read is reported, not dropped in silence. */
  private unbuildable(channel: OutboundChannel, resource: Resource, element: string): undefined {
    const what = `${resource.resourceType}/${resource.id}`;
    this.failed(channel.id, new OutboundBuildError(`${what}: ${element} is not a Patient that can be read`, 'PID-3'));
    return undefined;
  }

  private async previous<T extends Resource>(version: StoredVersion): Promise<T | undefined> {
    if (version.versionId <= 1) return undefined;
    try {
      const stored = await this.repo.vread(version.resourceType, version.id, version.versionId - 1);
      return stored.deleted ? undefined : (JSON.parse(stored.json as string) as T);
    } catch (error) {
      if (error instanceof FhirError) return undefined;
      throw error;
    }
  }

  /**
   * The resource a literal reference points to, if it exists: `Type/id`, a version of it (`Type/id/_history/n`:
   * the message carries the current data, as for `Type/id`), or either as an absolute URL on this server.
   */
  private async target<T extends Resource>(reference: Reference | undefined, type: string): Promise<T | undefined> {
    let literal = reference?.reference ?? '';
    const base = this.baseUrl?.replace(/\/+$/, '');
    if (base && literal.startsWith(`${base}/`)) literal = literal.slice(base.length + 1);
    const match = /^([A-Za-z]+)\/([A-Za-z0-9.-]{1,64})(?:\/_history\/[A-Za-z0-9.-]{1,64})?$/.exec(literal);
    if (!match || match[1] !== type) return undefined;
    try {
      return JSON.parse((await this.repo.read(type, match[2])).json as string) as T;
    } catch (error) {
      if (error instanceof FhirError) return undefined;
      throw error;
    }
  }

  private async enqueue(
    channel: OutboundChannel,
    version: StoredVersion,
    built: Built,
    current: Resource,
  ): Promise<void> {
    const raw = encodeText(built.text, channel.charset);
    const controlId = /^MSH\|[^|]*\|(?:[^|]*\|){7}([^|]*)\|/.exec(built.text)?.[1] ?? '';
    const stored: StoredMessage | undefined = await this.store.enqueue({
      channel: channel.id,
      direction: 'out',
      receivedAt: Date.now(),
      status: 'queued',
      raw,
      sendingApplication: channel.sendingApplication,
      sendingFacility: channel.sendingFacility,
      controlId,
      type: built.type,
      contentHash: createHash('sha256').update(raw).digest('hex'),
      sourceKey: `${current.resourceType}/${version.id}/_history/${version.versionId}`,
      // Searchable like inbound messages: by the identifier PID-3 carries (the MRN), else our own id.
      ...(patientKeyOf(built.patient) ? { patientId: patientKeyOf(built.patient) } : {}),
    });
    if (stored) this.queued(channel.id);
  }
}

function header(channel: OutboundChannel): OutboundHeader {
  return {
    sendingApplication: channel.sendingApplication,
    sendingFacility: channel.sendingFacility,
    receivingApplication: channel.receivingApplication,
    receivingFacility: channel.receivingFacility,
    controlId: newControlId(),
    time: new Date(),
    processingId: channel.processingId,
    version: channel.version,
    charset: channel.charset,
    timezone: channel.timezone,
  };
}

/** The value messages are searched by for a patient: the MRN PID-3 carries first, else the Patient id. */
function patientKeyOf(patient: Patient | undefined): string | undefined {
  const mrn =
    patient?.identifier?.find((i) => i.type?.coding?.some((c) => c.code === 'MR')) ?? patient?.identifier?.[0];
  return mrn?.value ?? patient?.id;
}
