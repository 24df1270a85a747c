import { test, expect, describe, afterEach } from 'bun:test';
import {
  formatReadableTime,
  formatReadableTimeWithZone,
  formatZoneOffset,
  fallbackZoneAbbr,
  localZoneAbbr,
} from './time-format.ts';

const at = (ms: number) => new Date(Date.UTC(2024, 9, 23, 1, 59, 0, ms));

describe('formatReadableTimeWithZone (docs/http-api.md §3.5 examples)', () => {
  test.each([
    [123, 480, 'CST', '2024-10-23 09:59:00.123 +0800 CST'],
    [500, 0, 'UTC', '2024-10-23 01:59:00.5 Z UTC'],
    [0, 0, 'UTC', '2024-10-23 01:59:00 Z UTC'],
    [120, 0, 'UTC', '2024-10-23 01:59:00.12 Z UTC'],
    [7, 0, 'UTC', '2024-10-23 01:59:00.007 Z UTC'],
    [10, -240, 'EDT', '2024-10-22 21:59:00.01 -0400 EDT'],
    [0, 330, 'IST', '2024-10-23 07:29:00 +0530 IST'],
    [0, -210, 'NDT', '2024-10-22 22:29:00 -0330 NDT'],
  ])('%i ms at %i min %s', (ms, off, abbr, want) => {
    expect(formatReadableTimeWithZone(at(ms), off, abbr)).toBe(want);
  });

  test('crosses a year boundary and pads small years', () => {
    expect(formatReadableTimeWithZone(new Date(Date.UTC(2023, 11, 31, 20, 0, 0)), 480, 'CST')).toBe(
      '2024-01-01 04:00:00 +0800 CST',
    );
    const y99 = new Date(Date.UTC(2000, 0, 2, 3, 4, 5));
    y99.setUTCFullYear(99);
    expect(formatReadableTimeWithZone(y99, 0, 'UTC')).toBe('0099-01-02 03:04:05 Z UTC');
  });

  test('invalid date gives an empty string, not an exception', () => {
    expect(formatReadableTimeWithZone(new Date(NaN), 0, 'UTC')).toBe('');
    expect(formatReadableTime(new Date(NaN))).toBe('');
  });
});

describe('zone helpers', () => {
  test('offset formatting', () => {
    expect(formatZoneOffset(0)).toBe('Z');
    expect(formatZoneOffset(-0)).toBe('Z');
    expect(formatZoneOffset(480)).toBe('+0800');
    expect(formatZoneOffset(-570)).toBe('-0930');
    expect(formatZoneOffset(840)).toBe('+1400');
  });
  test('fallback abbreviation', () => {
    expect(fallbackZoneAbbr(0)).toBe('UTC');
    expect(fallbackZoneAbbr(480)).toBe('GMT+8');
    expect(fallbackZoneAbbr(-210)).toBe('GMT-3:30');
    expect(fallbackZoneAbbr(345)).toBe('GMT+5:45');
  });
});

describe('formatReadableTime in the process time zone', () => {
  const saved = process.env.TZ;
  afterEach(() => {
    if (saved === undefined) delete process.env.TZ;
    else process.env.TZ = saved;
  });

  test.each([
    ['UTC', '2024-10-23 01:59:00.123 Z UTC'],
    ['Asia/Shanghai', '2024-10-23 09:59:00.123 +0800 GMT+8'],
    ['America/New_York', '2024-10-22 21:59:00.123 -0400 EDT'],
    ['Asia/Kolkata', '2024-10-23 07:29:00.123 +0530 GMT+5:30'],
  ])('TZ=%s', (tz, want) => {
    process.env.TZ = tz;
    expect(formatReadableTime(at(123))).toBe(want);
  });

  test('winter/summer offsets follow the date', () => {
    process.env.TZ = 'America/New_York';
    expect(formatReadableTime(new Date(Date.UTC(2024, 0, 15, 12, 0, 0)))).toBe('2024-01-15 07:00:00 -0500 EST');
    expect(localZoneAbbr(new Date(Date.UTC(2024, 6, 15)))).toBe('EDT');
  });

  test('output parses back with the Go-layout regexp', () => {
    process.env.TZ = 'Asia/Shanghai';
    const s = formatReadableTime(new Date());
    expect(s).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{1,3})? (Z|[+-]\d{4}) \S+$/);
    expect(s).not.toMatch(/\.\d*0 /); // trailing zeros trimmed
  });
});
