// Scheduling end to end over HTTP, shared by the SQLite and the MongoDB adapter runs: slots generated from a
// PractitionerRole's hours in its time zone (leave and daylight saving included), $find by specialty,
// practitioner and location, $hold, $book, moving and cancelling, a lapsed hold, twenty clerks racing for one
// slot, and bad input.
import type { Appointment, Bundle, OperationOutcome, Parameters, Slot } from '@medplum/fhirtypes';
import { HOLD_EXPIRES_URL } from '../../../resources/scheduling/booking';
import { SLOT_MINUTES_URL, TIME_ZONE_URL } from '../../../resources/scheduling/schedule-definition';
import { FHIR_JSON, patient, putThroughApi, type TestApp } from '../../support/app';

const CARDIOLOGY = 'http://snomed.info/sct|394579002';
const DERMATOLOGY = 'http://snomed.info/sct|394582007';
const coding = (token: string) => {
  const [system, code] = token.split('|');
  return { coding: [{ system, code }] };
};

/** Monday 1 March 2027 in Berlin (CET, UTC+1); summer time starts on Sunday 28 March. */
const WEEK = { start: '2027-03-01', end: '2027-03-06' };
const SUMMER_MONDAY = { start: '2027-03-29', end: '2027-03-30' };

async function seed(t: TestApp): Promise<void> {
  const put = (resource: Record<string, unknown>) => putThroughApi(t, resource);
  await put(patient({ id: 'pat1' }));
  await put(patient({ id: 'pat2', name: [{ family: 'Other' }] }));
  await put({ resourceType: 'Location', id: 'room1', name: 'Cardiology room 1' });
  await put({ resourceType: 'Practitioner', id: 'card', name: [{ family: 'Herz' }] });
  await put({ resourceType: 'Practitioner', id: 'derm', name: [{ family: 'Haut' }] });
  await put({
    resourceType: 'PractitionerRole',
    id: 'card-role',
    practitioner: { reference: 'Practitioner/card' },
    location: [{ reference: 'Location/room1' }],
    specialty: [coding(CARDIOLOGY)],
    availableTime: [
      { daysOfWeek: ['mon', 'tue', 'wed', 'thu', 'fri'], availableStartTime: '09:00:00', availableEndTime: '11:00:00' },
    ],
    // Leave on Wednesday 3 March (all day, Berlin time).
    notAvailable: [{ description: 'Congress', during: { start: '2027-03-02T23:00:00Z', end: '2027-03-03T23:00:00Z' } }],
  });
  await put({
    resourceType: 'PractitionerRole',
    id: 'derm-role',
    practitioner: { reference: 'Practitioner/derm' },
    specialty: [coding(DERMATOLOGY)],
    availableTime: [{ daysOfWeek: ['mon'], availableStartTime: '14:00:00', availableEndTime: '15:00:00' }],
  });
  const extension = [
    { url: TIME_ZONE_URL, valueCode: 'Europe/Berlin' },
    { url: SLOT_MINUTES_URL, valueInteger: 30 },
  ];
  // The cardiology schedule names no specialty: $find reaches it through its PractitionerRole.
  await put({
    resourceType: 'Schedule',
    id: 'card-schedule',
    actor: [{ reference: 'PractitionerRole/card-role' }],
    extension,
  });
  await put({
    resourceType: 'Schedule',
    id: 'derm-schedule',
    actor: [{ reference: 'PractitionerRole/derm-role' }],
    specialty: [coding(DERMATOLOGY)],
    extension,
  });
  await put({ resourceType: 'Schedule', id: 'no-hours', actor: [{ reference: 'Practitioner/card' }] });
}

export function describeScheduling(name: string, startApp: () => Promise<TestApp>): void {
  describe(`Scheduling on ${name}`, () => {
    let t: TestApp;

    beforeAll(async () => {
      t = await startApp();
      await seed(t);
    });
    afterAll(() => t?.close());

    const post = (url: string, body?: unknown) =>
      t
        .api()
        .post(url)
        .set('Content-Type', FHIR_JSON)
        .send(body ?? {});
    const get = (url: string) => t.api().get(url);
    const generate = async (id: string, window: { start: string; end: string }) => {
      const res = await post(`/fhir/Schedule/${id}/$generate-slots?start=${window.start}&end=${window.end}`);
      expect([res.status, JSON.stringify(res.body).slice(0, 300)]).toEqual([200, expect.any(String)]);
      const out = (n: string) => (res.body as Parameters).parameter?.find((p) => p.name === n)?.valueInteger;
      return { created: out('created'), kept: out('kept') };
    };
    const find = async (query: string) => {
      const res = await get(`/fhir/Appointment/$find?start=2027-03-01&end=2027-04-01&${query}`);
      expect([res.status, JSON.stringify(res.body).slice(0, 300)]).toEqual([200, expect.any(String)]);
      return ((res.body as Bundle).entry ?? []).map((e) => e.resource as Appointment);
    };
    const withResource = (appointment: Appointment) => ({
      resourceType: 'Parameters',
      parameter: [{ name: 'appointment-resource', resource: appointment }],
    });
    const withReference = (reference: string) => ({
      resourceType: 'Parameters',
      parameter: [{ name: 'appointment-reference', valueReference: { reference } }],
    });
    const bundled = (body: unknown) => (body as Bundle).entry?.[0]?.resource as Appointment;
    const slot = async (reference: string) => (await get(`/fhir/${reference}`)).body as Slot;

    test('slots follow the hours in the schedule’s time zone, skip leave, and are not made twice', async () => {
      expect(await generate('card-schedule', WEEK)).toEqual({ created: 16, kept: 0 });
      expect(await generate('card-schedule', WEEK)).toEqual({ created: 0, kept: 16 });
      expect(await generate('card-schedule', SUMMER_MONDAY)).toEqual({ created: 4, kept: 0 });
      expect(await generate('derm-schedule', WEEK)).toEqual({ created: 2, kept: 0 });
      const slots = await get('/fhir/Slot?schedule=Schedule/card-schedule&_sort=start&_count=100');
      const starts = ((slots.body as Bundle).entry ?? []).map((e) => (e.resource as Slot).start);
      // 09:00 in Berlin is 08:00 UTC in winter and 07:00 UTC in summer; Wednesday is leave.
      expect(starts.slice(0, 4)).toEqual([
        '2027-03-01T08:00:00.000Z',
        '2027-03-01T08:30:00.000Z',
        '2027-03-01T09:00:00.000Z',
        '2027-03-01T09:30:00.000Z',
      ]);
      expect(starts.some((s) => s.startsWith('2027-03-03'))).toBe(false);
      expect(starts.slice(-4)[0]).toBe('2027-03-29T07:00:00.000Z');
    });

    test('$find proposes the earliest free slots by specialty, practitioner or location, earliest first', async () => {
      const cardiology = await find(`specialty=${encodeURIComponent(CARDIOLOGY)}&_count=3`);
      expect(cardiology.map((a) => [a.status, a.start, a.minutesDuration])).toEqual([
        ['proposed', '2027-03-01T08:00:00.000Z', 30],
        ['proposed', '2027-03-01T08:30:00.000Z', 30],
        ['proposed', '2027-03-01T09:00:00.000Z', 30],
      ]);
      expect(cardiology[0].participant?.[0].actor?.reference).toBe('PractitionerRole/card-role');
      expect((await find('practitioner=Practitioner/card&_count=1'))[0].start).toBe('2027-03-01T08:00:00.000Z');
      expect((await find('location-reference=Location/room1&_count=1'))[0].start).toBe('2027-03-01T08:00:00.000Z');
      const either = await find(`specialty=${encodeURIComponent(`${DERMATOLOGY},${CARDIOLOGY}`)}&_count=100`);
      expect(either).toHaveLength(22);
      const dermatology = await find(`specialty=${encodeURIComponent(DERMATOLOGY)}`);
      expect(dermatology.map((a) => a.start)).toEqual(['2027-03-01T13:00:00.000Z', '2027-03-01T13:30:00.000Z']);
      // Both kinds must hold: no dermatologist works in room 1.
      expect(await find(`specialty=${encodeURIComponent(DERMATOLOGY)}&location-reference=Location/room1`)).toEqual([]);
    });

    test('$hold keeps a slot for one appointment, $book books it; the slot is gone from $find', async () => {
      const [proposal] = await find('practitioner=Practitioner/derm&patient-reference=Patient/pat1&_count=1');
      expect(proposal.participant?.map((p) => p.actor?.reference)).toEqual([
        'PractitionerRole/derm-role',
        'Patient/pat1',
      ]);
      const held = await post('/fhir/Appointment/$hold', withResource(proposal));
      expect(held.status).toBe(200);
      const pending = bundled(held.body);
      expect(pending.status).toBe('pending');
      expect(pending.extension?.find((e) => e.url === HOLD_EXPIRES_URL)?.valueInstant).toBeDefined();
      const heldSlot = await slot(proposal.slot![0].reference!);
      expect(heldSlot.status).toBe('busy-tentative');
      expect((await find('practitioner=Practitioner/derm')).map((a) => a.start)).toEqual(['2027-03-01T13:30:00.000Z']);

      // Another clerk cannot hold or book it meanwhile.
      const [, other] = await Promise.all([Promise.resolve(), post('/fhir/Appointment/$book', withResource(proposal))]);
      expect(other.status).toBe(409);
      expect(JSON.stringify(other.body)).toMatch(/no longer available/);

      const booked = await post('/fhir/Appointment/$book', withReference(`Appointment/${pending.id}`));
      expect(booked.status).toBe(200);
      expect(bundled(booked.body)).toMatchObject({ id: pending.id, status: 'booked' });
      expect(bundled(booked.body).extension).toBeUndefined();
      expect((await slot(proposal.slot![0].reference!)).status).toBe('busy');
      // The patient is busy then: $find for them leaves that time out.
      const forPatient = await find(`specialty=${encodeURIComponent(DERMATOLOGY)}&patient-reference=Patient/pat1`);
      expect(forPatient.map((a) => a.start)).toEqual(['2027-03-01T13:30:00.000Z']);
    });

    test('twenty clerks book one slot at once: exactly one succeeds, the others get a 409', async () => {
      const [proposal] = await find(`specialty=${encodeURIComponent(CARDIOLOGY)}&_count=1`);
      const answers = await Promise.all(
        Array.from({ length: 20 }, () => post('/fhir/Appointment/$book', withResource(proposal))),
      );
      const statuses = answers.map((a) => a.status).sort();
      expect(statuses).toEqual([200, ...Array(19).fill(409)]);
      const refused = answers.find((a) => a.status === 409)!.body as OperationOutcome;
      expect(refused.issue?.[0].code).toBe('conflict');
      const booked = await get(`/fhir/Appointment?slot=${proposal.slot![0].reference}`);
      expect((booked.body as Bundle).entry?.map((e) => (e.resource as Appointment).status)).toEqual(['booked']);
    });

    test('$book moves a booked appointment to another slot and frees the old one; status cancelled frees it', async () => {
      const [first, second] = await find(`specialty=${encodeURIComponent(CARDIOLOGY)}&_count=2`);
      const booked = bundled((await post('/fhir/Appointment/$book', withResource(first))).body);
      const moved = await post('/fhir/Appointment/$book', withResource({ ...booked, slot: second.slot }));
      expect(moved.status).toBe(200);
      expect(bundled(moved.body)).toMatchObject({ id: booked.id, status: 'booked', start: second.start });
      expect(JSON.stringify(moved.body)).toContain(`Released ${first.slot![0].reference}`);
      expect((await slot(first.slot![0].reference!)).status).toBe('free');
      expect((await slot(second.slot![0].reference!)).status).toBe('busy');

      // A change to a stale copy (the version before the move) is refused.
      const stale = await post('/fhir/Appointment/$book', withResource({ ...booked, status: 'cancelled' }));
      expect(stale.status).toBe(412);
      const current = (await get(`/fhir/Appointment/${booked.id}`)).body as Appointment;
      const cancelled = await post('/fhir/Appointment/$book', withResource({ ...current, status: 'cancelled' }));
      expect(cancelled.status).toBe(200);
      expect(bundled(cancelled.body).status).toBe('cancelled');
      expect((await slot(second.slot![0].reference!)).status).toBe('free');
    });

    test('cancelling by a plain PATCH frees the slot; writing the cancelled appointment again frees nothing', async () => {
      const [proposal] = await find(`specialty=${encodeURIComponent(CARDIOLOGY)}&_count=1`);
      const booked = bundled((await post('/fhir/Appointment/$book', withResource(proposal))).body);
      const reference = proposal.slot![0].reference!;
      const patched = await t
        .api()
        .patch(`/fhir/Appointment/${booked.id}`)
        .set('Content-Type', 'application/json-patch+json')
        .send([{ op: 'replace', path: '/status', value: 'cancelled' }]);
      expect(patched.status).toBe(200);
      expect((await slot(reference)).status).toBe('free');
      // Someone else books the slot; the old appointment written again as cancelled leaves it booked.
      expect((await post('/fhir/Appointment/$book', withResource(proposal))).status).toBe(200);
      const cancelled = (await get(`/fhir/Appointment/${booked.id}`)).body as Appointment;
      await putThroughApi(t, { ...cancelled, comment: 'called back' } as unknown as Record<string, unknown>);
      expect((await slot(reference)).status).toBe('busy');
    });

    test('a hold that ran out no longer keeps its slot; its appointment is cancelled when the slot is taken', async () => {
      const [proposal] = await find(`specialty=${encodeURIComponent(CARDIOLOGY)}&_count=1`);
      const pending = bundled((await post('/fhir/Appointment/$hold', withResource(proposal))).body);
      // Let the hold run out.
      const reference = proposal.slot![0].reference!;
      const held = await slot(reference);
      const lapsed = {
        ...held,
        extension: held.extension?.map((e) =>
          e.url === HOLD_EXPIRES_URL ? { ...e, valueInstant: '2020-01-01T00:00:00Z' } : e,
        ),
      };
      await putThroughApi(t, lapsed as unknown as Record<string, unknown>);
      expect((await find(`specialty=${encodeURIComponent(CARDIOLOGY)}&_count=1`))[0].start).toBe(proposal.start);
      const booked = await post('/fhir/Appointment/$book', withResource(proposal));
      expect(booked.status).toBe(200);
      const stale = (await get(`/fhir/Appointment/${pending.id}`)).body as Appointment;
      expect(stale.status).toBe('cancelled');
      // Booking the lapsed hold itself is now refused.
      const late = await post('/fhir/Appointment/$book', withReference(`Appointment/${pending.id}`));
      expect(late.status).toBe(400);
    });

    test('a patient books for themselves in the portal (the server takes the slot), not for someone else', async () => {
      const { token } = await t.auth.tokens.issueAccessToken(
        {
          clientId: 'portal',
          userId: 'user-pat2',
          role: 'patient',
          fhirUser: 'Patient/pat2',
          patient: 'pat2',
          scope: 'patient/Appointment.cru patient/Slot.rs patient/Schedule.rs patient/PractitionerRole.rs',
        },
        600_000,
      );
      const portal = (url: string, body?: unknown) =>
        t
          .anonymous()
          .post(url)
          .set('Authorization', `Bearer ${token}`)
          .set('Content-Type', FHIR_JSON)
          .send(body ?? {});
      const found = await t
        .anonymous()
        .get(
          `/fhir/Appointment/$find?start=2027-03-01&end=2027-04-01&specialty=${encodeURIComponent(CARDIOLOGY)}&patient-reference=Patient/pat2&_count=2`,
        )
        .set('Authorization', `Bearer ${token}`);
      expect(found.status).toBe(200);
      const [mine, theirs] = ((found.body as Bundle).entry ?? []).map((e) => e.resource as Appointment);
      const booked = await portal('/fhir/Appointment/$book', withResource(mine));
      expect(booked.status).toBe(200);
      expect((await slot(mine.slot![0].reference!)).status).toBe('busy');
      const forOther = {
        ...theirs,
        participant: theirs.participant?.map((p) =>
          p.actor?.reference === 'Patient/pat2' ? { ...p, actor: { reference: 'Patient/pat1' } } : p,
        ),
      };
      const refused = await portal('/fhir/Appointment/$book', withResource(forOther));
      expect(refused.status).toBe(403);
      expect((await slot(theirs.slot![0].reference!)).status).toBe('free');
    });

    test('bad input is a 4xx OperationOutcome naming the problem', async () => {
      const cases: [string, string, unknown, number, RegExp][] = [
        ['GET', '/fhir/Appointment/$find?end=2027-03-02', undefined, 400, /needs start and end/],
        ['GET', '/fhir/Appointment/$find?start=2027-03-02&end=2027-03-01', undefined, 400, /end must be after start/],
        ['GET', '/fhir/Appointment/$find?start=2027-01-01&end=2029-01-01', undefined, 400, /at most 366 days/],
        ['GET', '/fhir/Appointment/$find?start=soon&end=2027-03-01', undefined, 400, /date or dateTime/],
        [
          'GET',
          '/fhir/Appointment/$find?start=2027-03-01&end=2027-03-02&practitioner=Patient/pat1',
          undefined,
          400,
          /must reference a Practitioner/,
        ],
        ['GET', '/fhir/Appointment/$find?start=2027-03-01&end=2027-03-02&_count=0', undefined, 400, /_count/],
        ['POST', '/fhir/Appointment/$book', {}, 400, /exactly one of appointment-resource and appointment-reference/],
        ['POST', '/fhir/Appointment/$book', withReference('Patient/pat1'), 400, /must reference a Appointment/],
        [
          'POST',
          '/fhir/Appointment/$book',
          withResource({ resourceType: 'Appointment', status: 'proposed', participant: [] } as unknown as Appointment),
          400,
          /names no slot/,
        ],
        [
          'POST',
          '/fhir/Appointment/$book',
          withResource({
            resourceType: 'Appointment',
            status: 'proposed',
            slot: [{ reference: 'Slot/nope' }],
            participant: [],
          } as unknown as Appointment),
          404,
          /Slot\/nope/,
        ],
        ['POST', '/fhir/Appointment/$book', withReference('Appointment/nope'), 404, /Appointment\/nope/],
        [
          'POST',
          '/fhir/Schedule/no-hours/$generate-slots?start=2027-03-01&end=2027-03-02',
          undefined,
          400,
          /none of its actors has hours/,
        ],
        ['POST', '/fhir/Schedule/nope/$generate-slots', undefined, 404, /Schedule\/nope/],
        [
          'POST',
          '/fhir/Schedule/card-schedule/$generate-slots?start=2027-01-01&end=2029-01-01',
          undefined,
          400,
          /at most 366 days/,
        ],
        ['POST', '/fhir/Patient/$find', {}, 404, /defined on Appointment/],
      ];
      for (const [method, url, body, status, message] of cases) {
        const res = method === 'GET' ? await get(url) : await post(url, body);
        expect([url, res.status]).toEqual([url, status]);
        expect((res.body as OperationOutcome).resourceType).toBe('OperationOutcome');
        expect([url, JSON.stringify(res.body)]).toEqual([url, expect.stringMatching(message)]);
      }
      // $book changes state: GET is not offered.
      expect((await get('/fhir/Appointment/$book?appointment-reference=Appointment/x')).status).toBe(405);
    });
  });
}
