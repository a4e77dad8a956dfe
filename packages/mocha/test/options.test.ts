import { describe, expect, it } from 'vitest';
import { parseReporterOptions } from '../src/options.js';

describe('parseReporterOptions', () => {
  it('types the strings mocha passes from --reporter-option', () => {
    const { options, forwarded, problems } = parseReporterOptions({
      reporter: 'dot',
      port: '0',
      host: '::1',
      url: 'http://127.0.0.1:7400',
      apiKey: 'k',
      project: 'web',
      captureOutput: 'false',
    });
    expect(problems).toEqual([]);
    expect(forwarded).toEqual({});
    expect(options).toEqual({
      reporter: 'dot',
      port: 0,
      host: '::1',
      url: 'http://127.0.0.1:7400',
      apiKey: 'k',
      project: 'web',
      captureOutput: false,
    });
  });

  it('accepts typed values from .mocharc and a bare key as true', () => {
    expect(parseReporterOptions({ port: 7400, captureOutput: true }).options).toEqual({
      port: 7400,
      captureOutput: true,
    });
    // `--reporter-option captureOutput` (no value) arrives as `true`
    expect(parseReporterOptions({ captureOutput: true }).options.captureOutput).toBe(true);
    for (const text of ['0', 'no', 'off', 'FALSE'])
      expect(parseReporterOptions({ captureOutput: text }).options.captureOutput).toBe(false);
    for (const text of ['1', 'yes', 'on', 'True'])
      expect(parseReporterOptions({ captureOutput: text }).options.captureOutput).toBe(true);
  });

  it('types every other reporter option: enabled, thresholds and intervals', () => {
    const { options, problems, forwarded } = parseReporterOptions({
      enabled: 'off',
      slowTestThreshold: '2000',
      performanceIntervalMs: 0,
      progressIntervalMs: '250',
      flushTimeoutMs: '500',
    });
    expect(problems).toEqual([]);
    expect(forwarded).toEqual({});
    expect(options).toEqual({
      enabled: false,
      slowTestThreshold: 2000,
      performanceIntervalMs: 0,
      progressIntervalMs: 250,
      flushTimeoutMs: 500,
    });
    const bad = parseReporterOptions({
      progressIntervalMs: '-5',
      flushTimeoutMs: 'soon',
      enabled: 'perhaps',
    });
    expect(bad.options).toEqual({});
    expect(bad.problems.join('\n')).toMatch(
      /progressIntervalMs must be a whole number of milliseconds >= 0 \(got "-5"\)/,
    );
    expect(bad.problems.join('\n')).toMatch(/flushTimeoutMs must be a whole number/);
    expect(bad.problems.join('\n')).toMatch(/enabled must be true or false/);
  });

  it('forwards what is not ours to the wrapped reporter', () => {
    const { options, forwarded } = parseReporterOptions({
      reporter: 'json',
      output: 'out/report.json',
      suiteName: 'x',
    });
    expect(options).toEqual({ reporter: 'json' });
    expect(forwarded).toEqual({ output: 'out/report.json', suiteName: 'x' });
  });

  it('reports each bad option and leaves it unset', () => {
    const { options, problems } = parseReporterOptions({
      port: 'seventy',
      captureOutput: 'maybe',
      host: '',
      reporter: 42,
    });
    expect(options).toEqual({});
    expect(problems).toHaveLength(4);
    expect(problems.join('\n')).toMatch(/port must be an integer between 0 and 65535 \(got "seventy"\)/);
    expect(problems.join('\n')).toMatch(/captureOutput must be true or false \(got "maybe"\)/);
    expect(problems.join('\n')).toMatch(/host must be a non-empty string/);
    expect(problems.join('\n')).toMatch(/reporter must be a reporter name/);
    expect(parseReporterOptions({ port: '70000' }).problems).toHaveLength(1);
  });

  it('takes nothing from nothing', () => {
    expect(parseReporterOptions(undefined)).toEqual({ options: {}, forwarded: {}, problems: [] });
  });

  it('takes the baseline as an object (.mocharc) or as baselineSave/baselineCompare/baselineDir strings', () => {
    expect(parseReporterOptions({ baseline: { save: 'main' } }).options).toEqual({
      baseline: { save: 'main' },
    });
    const { options, forwarded, problems } = parseReporterOptions({
      baselineSave: 'next',
      baselineCompare: 'main',
      baselineDir: 'perf',
    });
    expect(options).toEqual({ baseline: { save: 'next', compare: 'main', dir: 'perf' } });
    expect(forwarded).toEqual({});
    expect(problems).toEqual([]);
    expect(parseReporterOptions({ baselineSave: true }).problems).toEqual([
      'baselineSave must be a non-empty string (got true)',
    ]);
  });
});
