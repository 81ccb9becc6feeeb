// Availability as wall-clock hours in a time zone: merged weekly hours, leave cut out, days a clock change
// shortens or lengthens, all-day hours, and slots with a buffer between them.
import { openIntervals, slotTimes, type Interval } from '../../../resources/scheduling/availability';

const at = (iso: string) => Date.parse(iso);
const iso = (intervals: Interval[]) =>
  intervals.map((i) => `${new Date(i.start).toISOString()}/${new Date(i.end).toISOString()}`);

test('overlapping hours merge, leave is cut out, and times stay on the wall clock across a clock change', () => {
  const open = openIntervals(
    {
      weekly: [
        { days: ['sun', 'mon'], start: '09:00', end: '12:00' },
        { days: ['mon'], start: '11:00:00', end: '13:00:00' },
      ],
      leave: [{ start: at('2027-03-29T08:00:00Z'), end: at('2027-03-29T09:00:00Z') }],
    },
    { start: at('2027-03-28T00:00:00Z'), end: at('2027-03-30T00:00:00Z') },
    'Europe/Berlin',
  );
  expect(iso(open)).toEqual([
    // Sunday 28 March: the clocks go forward at 02:00, 09:00 is already summer time (UTC+2).
    '2027-03-28T07:00:00.000Z/2027-03-28T10:00:00.000Z',
    // Monday: 09:00-13:00 merged, less the leave from 10:00 to 11:00 local time.
    '2027-03-29T07:00:00.000Z/2027-03-29T08:00:00.000Z',
    '2027-03-29T09:00:00.000Z/2027-03-29T11:00:00.000Z',
  ]);
});

test('all-day hours cover the local day (23 hours on the day the clocks go forward); the window clips them', () => {
  const open = openIntervals(
    { weekly: [{ days: ['sun'], allDay: true }], leave: [] },
    { start: at('2027-03-27T12:00:00Z'), end: at('2027-03-28T20:00:00Z') },
    'Europe/Berlin',
  );
  expect(iso(open)).toEqual(['2027-03-27T23:00:00.000Z/2027-03-28T20:00:00.000Z']);
  const whole = openIntervals(
    { weekly: [{ days: ['sun'], allDay: true }], leave: [] },
    { start: at('2027-03-27T00:00:00Z'), end: at('2027-03-30T00:00:00Z') },
    'Europe/Berlin',
  );
  expect(whole.map((i) => (i.end - i.start) / 3_600_000)).toEqual([23]);
});

test('slots fill each interval with a buffer after each; a slot that would run over is left out', () => {
  const slots = slotTimes([{ start: at('2027-01-04T09:00:00Z'), end: at('2027-01-04T10:00:00Z') }], 20, 5);
  expect(iso(slots)).toEqual([
    '2027-01-04T09:00:00.000Z/2027-01-04T09:20:00.000Z',
    '2027-01-04T09:25:00.000Z/2027-01-04T09:45:00.000Z',
  ]);
});
