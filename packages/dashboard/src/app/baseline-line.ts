/**
 * What the baseline says, for the page: the run card's baseline line — live while the run goes (the tests
 * whose test.result said `regression`, counted once each however many attempts), then what
 * baseline.compared concluded at the run's end — and, for one test, which verdict its comparison gives
 * (the event list and the detail pane word it each their way). Pure: the page copies the strings.
 */
import type { BaselineComparedData, BaselineTestComparison } from '@testwire/protocol';

/** One test's comparison, as one verdict: the first that holds, in this order. */
export type TestBaselineVerdict = 'newly-failing' | 'slower' | 'added' | 'fixed' | 'faster' | 'same';

export function testBaselineVerdict(b: Partial<BaselineTestComparison>): TestBaselineVerdict {
  if (b.newlyFailing) return 'newly-failing';
  if (b.slower) return 'slower';
  if (b.added) return 'added';
  if (b.fixed) return 'fixed';
  if (b.faster) return 'faster';
  return 'same';
}

export interface RunBaseline {
  /** The baseline's label, from the first comparison seen. */
  label?: string;
  /** Ids of the tests whose latest result regressed against the baseline. */
  regressed: Set<string>;
  /** Ids of the tests that passed in the baseline and fail now. */
  newlyFailing: Set<string>;
  compared?: BaselineComparedData;
}

export function emptyRunBaseline(): RunBaseline {
  return { regressed: new Set(), newlyFailing: new Set() };
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** `vs v1.0.0: 2 slower, 1 newly failing (live)`; after baseline.compared its figures; undefined: no baseline. */
export function baselineLine(b: RunBaseline | undefined): string | undefined {
  if (!b) return undefined;
  const c = b.compared;
  if (c) {
    const x = c.comparison;
    const parts = [
      x.summary.regression ? 'regression' : 'no regression',
      `${plural(c.regressions.length, 'slower test')}`,
    ];
    if (x.testsNewlyFailing) parts.push(`${x.testsNewlyFailing} newly failing`);
    if (x.testsAdded) parts.push(`+${plural(x.testsAdded, 'test')}`);
    if (x.testsRemoved) parts.push(`−${plural(x.testsRemoved, 'test')}`);
    if (x.coverage) parts.push(`coverage ${x.coverage.change >= 0 ? '+' : ''}${x.coverage.change} pts`);
    parts.push(`score ${x.summary.score}`);
    return `vs ${c.baseline}: ${parts.join(' · ')}`;
  }
  if (b.label === undefined) return undefined;
  const parts: string[] = [];
  if (b.regressed.size) parts.push(plural(b.regressed.size, 'slower test'));
  if (b.newlyFailing.size) parts.push(`${b.newlyFailing.size} newly failing`);
  return `vs ${b.label}: ${parts.length ? parts.join(' · ') : 'no regression so far'} (live)`;
}
