/**
 * framework.detected names the config jest runs with, end to end on jest 29 and 30 (compat/jest-<major>) into
 * a real broadcaster seen by a real WebSocket subscriber: with `--config <file>`, that file and its patterns,
 * not the default config file beside the project (which the core would find) and its patterns.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { type LiveStream, openStream, runnerEnv, runToExit, writeProject } from '@testwire-tests/support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compatDir } from './helpers.js';

let stream: LiveStream;
beforeAll(async () => {
  stream = await openStream();
});
afterAll(() => stream?.close());

/** Jest's default testMatch, per major. */
const DEFAULTS: Record<number, string[]> = {
  29: ['**/__tests__/**/*.[jt]s?(x)', '**/?(*.)+(spec|test).[tj]s?(x)'],
  30: ['**/__tests__/**/*.?([mc])[jt]s?(x)', '**/?(*.)+(spec|test).?([mc])[jt]s?(x)'],
};

describe.each([29, 30])('jest %i: --config <file>', (major) => {
  it.each([
    // A module config with its own patterns.
    ['custom/jest.custom.cjs', ['**/*.check.js']],
    // A JSON config without patterns: jest's defaults.
    ['conf/jest.json', undefined],
  ])(
    'framework.detected names %s and the patterns jest runs with',
    async (config, patterns) => {
      const name = `jest-config-${process.pid}-${randomBytes(4).toString('hex')}`;
      const reporters = "['default', '@testwire/jest']";
      const dir = writeProject(join(compatDir(major), 'work', name), {
        'package.json': '{ "name": "jest-config-fixture", "private": true }\n',
        // The default config, which this run does not use.
        'jest.config.json': '{ "testMatch": ["**/*.unused.js"] }\n',
        'custom/jest.custom.cjs': `module.exports = { rootDir: '..', testMatch: ['**/*.check.js'], reporters: ${reporters} };\n`,
        'conf/jest.json': JSON.stringify({ rootDir: '..', reporters: ['default', '@testwire/jest'] }),
        'a.check.js': "test('check', () => {});\n",
        'a.test.js': "test('test', () => {});\n",
      });
      try {
        const bin = join(compatDir(major), 'node_modules', 'jest', 'bin', 'jest.js');
        const args = [bin, '--config', config];
        expect(await runToExit(process.execPath, args, dir, runnerEnv(stream.url))).toBe(0);
        const run = await stream.runOf(basename(dir));
        const detected = run.find((e) => e.type === 'framework.detected')?.data as any;
        const active = detected.frameworks.find((f: any) => f.name === detected.active);
        expect(active).toMatchObject({
          name: 'jest',
          configPath: `./${config}`,
          testPatterns: patterns ?? DEFAULTS[major],
        });
        // The tests those patterns take, and no other.
        const ran = run.filter((e) => e.type === 'test.result').map((e) => (e.data as any).file);
        expect(ran).toEqual(config === 'conf/jest.json' ? ['a.test.js'] : ['a.check.js']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
    90_000,
  );

  it.each([
    // The default config, its testMatch replaced (and the reporters given there too).
    [
      ['--testMatch', '**/*.check.js', '--reporters=default', '--reporters=@testwire/jest'],
      'jest.config.json',
      ['**/*.check.js'],
    ],
    // A config without patterns, a testRegex given beside it.
    [['--config', 'conf/jest.json', '--testRegex=check\\.js$'], 'conf/jest.json', ['check\\.js$']],
  ])(
    'framework.detected has the patterns the command line gives (%j)',
    async (given, config, patterns) => {
      const name = `jest-config-${process.pid}-${randomBytes(4).toString('hex')}`;
      const dir = writeProject(join(compatDir(major), 'work', name), {
        'package.json': '{ "name": "jest-config-fixture", "private": true }\n',
        'jest.config.json': '{ "testMatch": ["**/*.unused.js"] }\n',
        'conf/jest.json': JSON.stringify({ rootDir: '..', reporters: ['default', '@testwire/jest'] }),
        'a.check.js': "test('check', () => {});\n",
        'a.test.js': "test('test', () => {});\n",
      });
      try {
        const bin = join(compatDir(major), 'node_modules', 'jest', 'bin', 'jest.js');
        expect(await runToExit(process.execPath, [bin, ...given], dir, runnerEnv(stream.url))).toBe(0);
        const run = await stream.runOf(basename(dir));
        const detected = run.find((e) => e.type === 'framework.detected')?.data as any;
        const active = detected.frameworks.find((f: any) => f.name === detected.active);
        expect(active).toMatchObject({ name: 'jest', configPath: `./${config}`, testPatterns: patterns });
        // The tests those patterns take, and no other.
        expect(run.filter((e) => e.type === 'test.result').map((e) => (e.data as any).file)).toEqual([
          'a.check.js',
        ]);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
    90_000,
  );
});

describe.each([29, 30])('jest %i: the config file jest finds', (major) => {
  const reporters = "['default', '@testwire/jest']";
  // [case, files, command line, configPath, patterns (jest's defaults when none), folder jest runs in]
  it.each<[string, Record<string, string>, string[], string | undefined, string[] | undefined, string?]>([
    // A module config with its own patterns: read as jest loaded it.
    [
      'jest.config.js with testMatch',
      { 'jest.config.js': `module.exports = { testMatch: ['**/*.check.js'], reporters: ${reporters} };\n` },
      [],
      './jest.config.js',
      ['**/*.check.js'],
    ],
    // A module config without patterns: the defaults of the jest that runs.
    [
      'jest.config.cjs without patterns',
      { 'jest.config.cjs': `module.exports = { reporters: ${reporters} };\n` },
      [],
      './jest.config.cjs',
      undefined,
    ],
    // package.json's `jest` key, a testRegex in it.
    [
      'package.json "jest" with testRegex',
      {
        'package.json': JSON.stringify({
          name: 'jest-config-fixture',
          private: true,
          jest: { testRegex: 'check\\.js$', reporters: ['default', '@testwire/jest'] },
        }),
      },
      [],
      './package.json',
      ['check\\.js$'],
    ],
    // No config at all (a package.json without `jest`): no config file, the defaults of the jest that runs.
    ['no config', {}, ['--reporters=default', '--reporters=@testwire/jest'], undefined, undefined],
    // Configs whose patterns only jest's resolved project config tells (it hands it with each file).
    // An ES module, which jest imports.
    [
      'jest.config.mjs with testMatch',
      { 'jest.config.mjs': `export default { testMatch: ['**/*.check.js'], reporters: ${reporters} };\n` },
      [],
      './jest.config.mjs',
      ['**/*.check.js'],
    ],
    // A function, which jest calls.
    [
      'a jest.config.js that exports a function',
      {
        'jest.config.js': `module.exports = async () => ({ testRegex: 'check\\\\.js$', reporters: ${reporters} });\n`,
      },
      [],
      './jest.config.js',
      ['check\\.js$'],
    ],
    // A preset's patterns, merged by jest (`<rootDir>` as written, not the folder jest replaces it with).
    [
      "a preset's testMatch",
      {
        'jest.config.js': `module.exports = { preset: 'fixture-preset', reporters: ${reporters} };\n`,
        'node_modules/fixture-preset/jest-preset.json': '{ "testMatch": ["<rootDir>/**/*.check.js"] }\n',
      },
      [],
      './jest.config.js',
      ['<rootDir>/**/*.check.js'],
    ],
    // An ES module with a preset.
    [
      "jest.config.mjs with a preset's testRegex",
      {
        'jest.config.mjs': `export default { preset: 'fixture-preset', reporters: ${reporters} };\n`,
        'node_modules/fixture-preset/jest-preset.js': "module.exports = { testRegex: ['check\\\\.js$'] };\n",
      },
      [],
      './jest.config.mjs',
      ['check\\.js$'],
    ],
    // A preset's patterns, with coverage (which starts with the run).
    [
      "a preset's testMatch, --coverage",
      {
        'jest.config.js': `module.exports = { preset: 'fixture-preset', reporters: ${reporters} };\n`,
        'node_modules/fixture-preset/jest-preset.json': '{ "testMatch": ["**/*.check.js"] }\n',
      },
      ['--coverage'],
      './jest.config.js',
      ['**/*.check.js'],
    ],
    // A preset whose patterns the command line replaces.
    [
      'a preset, --testMatch given',
      {
        'jest.config.js': `module.exports = { preset: 'fixture-preset', reporters: ${reporters} };\n`,
        'node_modules/fixture-preset/jest-preset.json': '{ "testMatch": ["**/*.unused.js"] }\n',
      },
      ['--testMatch', '**/*.check.js'],
      './jest.config.js',
      ['**/*.check.js'],
    ],
    // Run from a folder without config or package.json: jest looks up the tree.
    [
      'a config in a folder above the working directory',
      {
        'jest.config.js': `module.exports = { testMatch: ['**/*.check.js'], reporters: ${reporters} };\n`,
        'sub/.keep': '',
      },
      [],
      './jest.config.js',
      ['**/*.check.js'],
      'sub',
    ],
  ])(
    'framework.detected for %s',
    async (_, files, given, configPath, patterns, from) => {
      const name = `jest-config-${process.pid}-${randomBytes(4).toString('hex')}`;
      const dir = writeProject(join(compatDir(major), 'work', name), {
        'package.json': '{ "name": "jest-config-fixture", "private": true }\n',
        'a.check.js': "test('check', () => {});\n",
        'a.test.js': "test('test', () => {});\n",
        ...files,
      });
      try {
        const bin = join(compatDir(major), 'node_modules', 'jest', 'bin', 'jest.js');
        const cwd = join(dir, from ?? '');
        const json = join(dir, 'jest-results.json');
        const args = [bin, ...given, '--json', `--outputFile=${json}`];
        expect(await runToExit(process.execPath, args, cwd, runnerEnv(stream.url))).toBe(0);
        const run = await stream.runOf(basename(dir));
        // The run's duration is jest's (its summary's Time: counts from its startTime), though the stream's
        // run starts later (at the first file, for a config whose patterns wait for it).
        // (With coverage the run completes once jest's coverage reporter is done, later than its summary.)
        const completed = run.at(-1) as any;
        const { startTime } = JSON.parse(readFileSync(json, 'utf8'));
        const beyond = Date.parse(completed.timestamp) - startTime - completed.data.summary.duration;
        expect(beyond).toBeGreaterThanOrEqual(-1);
        if (!given.includes('--coverage')) expect(beyond).toBeLessThan(50);
        const detected = run.find((e) => e.type === 'framework.detected')?.data as any;
        const active = detected.frameworks.find((f: any) => f.name === detected.active);
        expect(active).toMatchObject({ name: 'jest', testPatterns: patterns ?? DEFAULTS[major] });
        expect(active.configPath).toBe(configPath);
        // The run starts before anything else of it, framework.detected with it.
        expect(run.slice(0, 2).map((e) => e.type)).toEqual(['test.started', 'framework.detected']);
        if (given.includes('--coverage'))
          expect(run.filter((e) => e.type.startsWith('coverage.')).map((e) => e.type)).toEqual([
            'coverage.started',
            'coverage.progress',
            'coverage.completed',
          ]);
        // The tests those patterns take, and no other.
        const ran = run.filter((e) => e.type === 'test.result').map((e) => (e.data as any).file);
        expect(ran).toEqual(patterns ? ['a.check.js'] : ['a.test.js']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
    90_000,
  );
});

describe.each([29, 30])('jest %i: a config whose patterns jest resolves, and no test file', (major) => {
  it('the run is streamed all the same, its patterns not known', async () => {
    const name = `jest-config-${process.pid}-${randomBytes(4).toString('hex')}`;
    const dir = writeProject(join(compatDir(major), 'work', name), {
      'package.json': '{ "name": "jest-config-fixture", "private": true }\n',
      // A function: its patterns are only known from jest's resolved config, which comes with a file.
      'jest.config.js':
        "module.exports = () => ({ testMatch: ['**/*.none.js'], reporters: ['default', '@testwire/jest'] });\n",
      'a.test.js': "test('test', () => {});\n",
    });
    try {
      const bin = join(compatDir(major), 'node_modules', 'jest', 'bin', 'jest.js');
      const args = [bin, '--passWithNoTests'];
      expect(await runToExit(process.execPath, args, dir, runnerEnv(stream.url))).toBe(0);
      const run = await stream.runOf(basename(dir));
      // (with the health sample of the run's start)
      const events = run.filter((e) => e.type !== 'system.health');
      expect(events.map((e) => e.type)).toEqual(['test.started', 'framework.detected', 'test.completed']);
      const detected = events[1].data as any;
      const active = detected.frameworks.find((f: any) => f.name === detected.active);
      expect(active.configPath).toBe('./jest.config.js');
      expect(active.testPatterns).toBeUndefined();
      expect((events[2].data as any).summary).toMatchObject({ total: 0 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);
});
