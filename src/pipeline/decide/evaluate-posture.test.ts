// Unit tests of the device-rule evaluation: required policies by id, name and criticality, empty
// results (fail / pass / grace), staleness, and all/any across several devices. Clock injected.
import { describe, expect, test } from 'vitest';
import type { DeviceRule } from '../../config/schema.ts';
import type { FleetHost, FleetPolicyResult } from '../gather-posture/fleet-schemas.ts';
import { combineHosts, evaluateHost } from './evaluate-posture.ts';

const NOW = Date.parse('2026-11-22T12:00:00Z');
const HOUR = 3600_000;

function policy(id: number, name: string, response: FleetPolicyResult['response'], critical = false): FleetPolicyResult {
  return { id, name, description: `${name} description`, resolution: `Fix ${name}`, critical, platform: '', response };
}

function host(policies: FleetPolicyResult[], overrides: Partial<FleetHost> = {}): FleetHost {
  return {
    id: 1,
    uuid: 'A1B2',
    hostname: 'laptop',
    hardwareSerial: 'SERIAL',
    platform: 'darwin',
    osVersion: 'macOS 15',
    status: 'online',
    seenTime: new Date(NOW - 60_000),
    policyUpdatedAt: new Date(NOW - HOUR),
    refetchRequested: false,
    teamId: null,
    failingPoliciesCount: policies.filter((p) => p.response === 'fail').length,
    policies,
    ...overrides,
  };
}

function rule(overrides: Partial<DeviceRule> = {}): DeviceRule {
  return {
    match: 'all',
    identifyBy: 'any',
    requireOwner: false,
    requirePolicies: [],
    requireCritical: false,
    emptyResult: 'fail',
    emptyResultGrace: 24 * HOUR,
    mode: 'enforce',
    onFleetError: 'deny',
    ...overrides,
  };
}

const disk = policy(1, 'Disk encryption enabled', 'fail', true);
const firewall = policy(2, 'Firewall enabled', 'pass');
const agent = policy(3, 'Endpoint agent running', '');

describe('evaluateHost', () => {
  test('with no listed policies and no critical rule, every reported policy must pass', () => {
    const verdict = evaluateHost(host([disk, firewall]), rule(), { nowMs: NOW });
    expect(verdict.compliant).toBe(false);
    expect(verdict.reasons).toEqual(['policy-failed']);
    expect(verdict.findings.map((f) => [f.id, f.outcome])).toEqual([[1, 'failed']]);
    expect(verdict.findings[0]?.resolution).toBe('Fix Disk encryption enabled');
  });

  test('listed policies are found by id or by exact name; others do not matter', () => {
    expect(evaluateHost(host([disk, firewall]), rule({ requirePolicies: [2] }), { nowMs: NOW }).compliant).toBe(true);
    expect(evaluateHost(host([disk, firewall]), rule({ requirePolicies: ['Firewall enabled'] }), { nowMs: NOW }).compliant).toBe(true);
    const byName = evaluateHost(host([disk, firewall]), rule({ requirePolicies: ['Disk encryption enabled'] }), { nowMs: NOW });
    expect(byName.compliant).toBe(false);
    expect(byName.findings.map((f) => f.id)).toEqual([1]);
  });

  test('requireCritical adds every critical policy to the listed ones', () => {
    const verdict = evaluateHost(host([disk, firewall]), rule({ requirePolicies: [2], requireCritical: true }), { nowMs: NOW });
    expect(verdict.compliant).toBe(false);
    expect(verdict.findings.map((f) => f.name)).toEqual(['Disk encryption enabled']);
  });

  test('a required policy that Fleet does not report for the host fails closed', () => {
    const verdict = evaluateHost(host([firewall]), rule({ requirePolicies: [2, 99, 'Screen lock'] }), { nowMs: NOW });
    expect(verdict.compliant).toBe(false);
    expect(verdict.reasons).toEqual(['policy-missing']);
    expect(verdict.missing).toEqual([99, 'Screen lock']);
  });

  test('an empty result fails by default, passes with emptyResult "pass"', () => {
    const failing = evaluateHost(host([firewall, agent]), rule(), { nowMs: NOW });
    expect(failing.reasons).toEqual(['policy-pending']);
    expect(failing.findings).toMatchObject([{ id: 3, outcome: 'pending' }]);
    expect(evaluateHost(host([firewall, agent]), rule({ emptyResult: 'pass' }), { nowMs: NOW }).compliant).toBe(true);
  });

  test('with "grace", an empty result passes only while the policy is younger than the grace period', () => {
    const graceRule = rule({ emptyResult: 'grace', emptyResultGrace: 24 * HOUR });
    const young = new Map([[3, new Date(NOW - 2 * HOUR)]]);
    const old = new Map([[3, new Date(NOW - 25 * HOUR)]]);
    expect(evaluateHost(host([agent]), graceRule, { nowMs: NOW, policyCreatedAt: young }).compliant).toBe(true);
    expect(evaluateHost(host([agent]), graceRule, { nowMs: NOW, policyCreatedAt: old }).reasons).toEqual(['policy-pending']);
    // Creation time unknown: no grace (fail closed).
    expect(evaluateHost(host([agent]), graceRule, { nowMs: NOW }).compliant).toBe(false);
  });

  test('a device that has not checked in, or whose results are old, is stale', () => {
    const offline = host([firewall], { seenTime: new Date(NOW - 4 * 24 * HOUR), policyUpdatedAt: new Date(NOW - 4 * 24 * HOUR) });
    const checkIn = evaluateHost(offline, rule({ maxCheckInAge: 24 * HOUR }), { nowMs: NOW });
    expect(checkIn.compliant).toBe(false);
    expect(checkIn.reasons).toEqual(['device-stale']);
    expect(checkIn.stale?.seenAgeMs).toBe(4 * 24 * HOUR);
    expect(evaluateHost(offline, rule({ maxPolicyAge: 2 * 24 * HOUR }), { nowMs: NOW }).reasons).toEqual(['device-stale']);
    expect(evaluateHost(host([firewall], { seenTime: null }), rule({ maxCheckInAge: HOUR }), { nowMs: NOW }).compliant).toBe(false);
    expect(evaluateHost(offline, rule(), { nowMs: NOW }).compliant).toBe(true);
  });

  test('several problems are all reported', () => {
    const verdict = evaluateHost(host([disk, agent], { seenTime: null }), rule({ requirePolicies: [1, 3, 7], maxCheckInAge: HOUR }), { nowMs: NOW });
    expect(verdict.reasons).toEqual(['policy-failed', 'policy-pending', 'policy-missing', 'device-stale']);
  });
});

describe('combineHosts', () => {
  const good = evaluateHost(host([firewall]), rule(), { nowMs: NOW });
  const bad = evaluateHost(host([disk], { id: 2 }), rule(), { nowMs: NOW });

  test('"all" needs every device to comply; "any" needs one', () => {
    expect(combineHosts([good, bad], 'all').compliant).toBe(false);
    expect(combineHosts([good, bad], 'any').compliant).toBe(true);
    expect(combineHosts([bad], 'any').compliant).toBe(false);
  });

  test('no device at all never complies', () => {
    expect(combineHosts([], 'any').compliant).toBe(false);
    expect(combineHosts([], 'all').compliant).toBe(false);
  });
});
