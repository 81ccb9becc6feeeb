// The scheduling operations: `Appointment/$find`, `$hold` and `$book` with the parameters and answers of IHE ITI
// Scheduling 1.0 (ITI-115/116/117), and `Schedule/[id]/$generate-slots`, which lays out free Slots from the
// schedule's availability. $hold and $book answer a searchset Bundle holding the Appointment; a slot that is
// no longer available is a 409 saying which.
import type { Bundle, BundleEntry, OperationDefinition, Parameters } from '@medplum/fhirtypes';
import { badRequest, informational, notFound } from '../../resources/errors';
import { bookAppointment, holdAppointment, type BookingResult } from '../../resources/scheduling/booking';
import { DEFAULT_FIND_COUNT, findAppointments, MAX_FIND_COUNT, MAX_FIND_DAYS } from '../../resources/scheduling/find';
import { generateSlots } from '../../resources/scheduling/generate';
import type { FhirRequest, FhirResponse } from '../fhir/context';
import type { FhirOperation } from './operation';
import {
  appointmentInput,
  countParameter,
  instantParameter,
  referenceParameters,
  tokenParameters,
} from './scheduling-input';

const IHE = 'https://profiles.ihe.net/ITI/Scheduling/OperationDefinition';
const DAY_MS = 86_400_000;

function onAppointment(request: FhirRequest, code: string): void {
  if (request.params.type !== 'Appointment') {
    throw notFound(`$${code} is defined on Appointment, not on ${request.params.type}`);
  }
}

async function findHandler(request: FhirRequest): Promise<FhirResponse> {
  onAppointment(request, 'find');
  const start = instantParameter(request, 'start');
  const end = instantParameter(request, 'end');
  if (start === undefined || end === undefined) throw badRequest('$find needs start and end', 'start');
  if (end <= start) throw badRequest('end must be after start', 'end');
  if (end - start > MAX_FIND_DAYS * DAY_MS) throw badRequest(`$find searches at most ${MAX_FIND_DAYS} days`, 'end');
  const patients = referenceParameters(request, 'patient-reference', 'Patient');
  if (patients.length > 1)
    throw badRequest('Group appointments are not offered: give one patient-reference', 'patient-reference');
  const proposals = await findAppointments(request.repo, {
    window: { start, end },
    specialty: tokenParameters(request, 'specialty'),
    visitType: tokenParameters(request, 'visit-type'),
    practitioner: referenceParameters(request, 'practitioner', 'Practitioner'),
    organization: referenceParameters(request, 'organization', 'Organization'),
    location: referenceParameters(request, 'location-reference', 'Location'),
    ...(patients[0] ? { patient: patients[0] } : {}),
    count: countParameter(request, DEFAULT_FIND_COUNT, MAX_FIND_COUNT),
  });
  const bundle: Bundle = {
    resourceType: 'Bundle',
    type: 'searchset',
    total: proposals.length,
    entry: proposals.map(({ appointment }) => ({
      fullUrl: `urn:uuid:${crypto.randomUUID()}`,
      resource: appointment,
      search: { mode: 'match' },
    })),
  };
  return { status: 200, body: { resource: bundle } };
}

async function holdHandler(request: FhirRequest): Promise<FhirResponse> {
  onAppointment(request, 'hold');
  return bookingAnswer(request, await holdAppointment(request.repo, appointmentInput(request)));
}

async function bookHandler(request: FhirRequest): Promise<FhirResponse> {
  onAppointment(request, 'book');
  return bookingAnswer(request, await bookAppointment(request.repo, appointmentInput(request)));
}

function bookingAnswer(request: FhirRequest, result: BookingResult): FhirResponse {
  const { appointment, released } = result;
  const entry: BundleEntry[] = [
    {
      fullUrl: `${request.baseUrl}/Appointment/${appointment.id}`,
      resource: JSON.parse(appointment.json as string),
      search: { mode: 'match' },
    },
  ];
  if (released.length > 0) {
    const text = `Released ${released.map((id) => `Slot/${id}`).join(', ')}`;
    entry.push({ resource: informational(text), search: { mode: 'outcome' } });
  }
  const bundle: Bundle = { resourceType: 'Bundle', type: 'searchset', total: 1, entry };
  return { status: 200, body: { resource: bundle } };
}

async function generateHandler(request: FhirRequest): Promise<FhirResponse> {
  const { type, id } = request.params;
  if (type !== 'Schedule' || !id) throw notFound('$generate-slots is defined on a Schedule instance');
  const start = instantParameter(request, 'start') ?? Date.now();
  const end = instantParameter(request, 'end') ?? start + 30 * DAY_MS;
  const result = await generateSlots(request.repo, id, { start, end });
  const parameters: Parameters = {
    resourceType: 'Parameters',
    parameter: [
      { name: 'start', valueDateTime: new Date(result.window.start).toISOString() },
      { name: 'end', valueDateTime: new Date(result.window.end).toISOString() },
      { name: 'created', valueInteger: result.created },
      { name: 'kept', valueInteger: result.kept },
    ],
  };
  return { status: 200, body: { resource: parameters } };
}

const APPOINTMENT = ['Appointment'] as OperationDefinition['resource'];
const bundleOut = { name: 'return', use: 'out', min: 0, max: '1', type: 'Bundle' } as const;
const appointmentIn = [
  { name: 'appointment-resource', use: 'in', min: 0, max: '1', type: 'Appointment' },
  { name: 'appointment-reference', use: 'in', min: 0, max: '1', type: 'Reference' },
] as OperationDefinition['parameter'];

function definition(code: string, name: string, description: string, affectsState: boolean) {
  return {
    resourceType: 'OperationDefinition' as const,
    id: `appointment-${code}`,
    url: `${IHE}/appointment-${code}`,
    name,
    status: 'active' as const,
    kind: 'operation' as const,
    code,
    description,
    resource: APPOINTMENT,
    system: false,
    type: true,
    instance: false,
    affectsState,
  };
}

export const findOperation: FhirOperation = {
  definition: {
    ...definition('find', 'Find_Appointments_Operation', 'Proposed appointments on the earliest free slots', false),
    parameter: [
      { name: 'start', use: 'in', min: 1, max: '1', type: 'dateTime' },
      { name: 'end', use: 'in', min: 1, max: '1', type: 'dateTime' },
      { name: 'specialty', use: 'in', min: 0, max: '*', type: 'string', searchType: 'token' },
      { name: 'visit-type', use: 'in', min: 0, max: '*', type: 'string', searchType: 'token' },
      { name: 'practitioner', use: 'in', min: 0, max: '*', type: 'Reference' },
      { name: 'organization', use: 'in', min: 0, max: '*', type: 'Reference' },
      { name: 'location-reference', use: 'in', min: 0, max: '*', type: 'Reference' },
      { name: 'patient-reference', use: 'in', min: 0, max: '1', type: 'Reference' },
      { name: '_count', use: 'in', min: 0, max: '1', type: 'integer' },
      bundleOut,
    ],
  },
  handler: findHandler,
};

export const holdOperation: FhirOperation = {
  definition: {
    ...definition('hold', 'Hold_Appointment_Operation', 'Holds the slots of an appointment for a few minutes', true),
    parameter: [...(appointmentIn ?? []), bundleOut],
  },
  handler: holdHandler,
};

export const bookOperation: FhirOperation = {
  definition: {
    ...definition('book', 'Book_Appointment_Operation', 'Books, moves or cancels an appointment with its slots', true),
    parameter: [...(appointmentIn ?? []), bundleOut],
  },
  handler: bookHandler,
};

export const generateSlotsOperation: FhirOperation = {
  definition: {
    resourceType: 'OperationDefinition',
    id: 'Schedule-generate-slots',
    url: 'http://hms.local/fhir/OperationDefinition/Schedule-generate-slots',
    name: 'GenerateSlots',
    status: 'active',
    kind: 'operation',
    code: 'generate-slots',
    description: "Free Slots over a window from the schedule's availability; existing slots are kept",
    resource: ['Schedule'],
    system: false,
    type: false,
    instance: true,
    affectsState: true,
    parameter: [
      { name: 'start', use: 'in', min: 0, max: '1', type: 'dateTime' },
      { name: 'end', use: 'in', min: 0, max: '1', type: 'dateTime' },
      { name: 'created', use: 'out', min: 1, max: '1', type: 'integer' },
      { name: 'kept', use: 'out', min: 1, max: '1', type: 'integer' },
    ],
  },
  handler: generateHandler,
};
