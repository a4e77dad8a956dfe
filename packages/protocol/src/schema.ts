/**
 * JSON Schemas of every event's `data`, the envelope and the client messages, written once and used two
 * ways: exported as a JSON Schema document (`schema/testwire.schema.json`, for consumers in other
 * languages) and interpreted by the small, eval-free validator below (the runtime guards).
 *
 * Only the subset of JSON Schema the validator understands is used: type (one or a list), properties,
 * required, items, additionalProperties (as a schema), enum, minimum. Additional properties are otherwise
 * always allowed: the protocol only adds. Numbers must be finite (NaN and Infinity do not survive JSON).
 */
import type { EventType } from './events.js';
import type { ClientMessage, ServerMessageType } from './messages.js';

export type SchemaType = 'string' | 'number' | 'integer' | 'boolean' | 'object' | 'array' | 'null';

export interface Schema {
  type?: SchemaType | SchemaType[];
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  /** Schema every property not listed in `properties` must conform to. */
  additionalProperties?: Schema;
  enum?: readonly (string | number | boolean | null)[];
  minimum?: number;
  description?: string;
  $ref?: string;
}

const str: Schema = { type: 'string' };
const num: Schema = { type: 'number' };
const int: Schema = { type: 'integer', minimum: 0 };
const bool: Schema = { type: 'boolean' };
const strs: Schema = { type: 'array', items: str };
const nums: Schema = { type: 'array', items: num };
const obj = (properties: Record<string, Schema>, required: string[] = []): Schema => ({
  type: 'object',
  properties,
  required,
});
const arr = (items: Schema): Schema => ({ type: 'array', items });

const common = { framework: str, project: str };
const location = obj({ file: str, line: int, column: int }, ['file']);
const identity = { id: str, titlePath: strs, location };
const error = obj(
  {
    message: str,
    stack: str,
    fullStack: str,
    type: str,
    expected: str,
    actual: str,
    diff: str,
    summary: str,
    code: str,
  },
  ['message'],
);
const coverageTotals = obj({ total: num, statements: num, branches: num, functions: num, lines: num }, [
  'statements',
  'branches',
  'functions',
  'lines',
]);
const metricMap = obj({ statements: num, branches: num, functions: num, lines: num });
const frameworkInfo = obj({ name: str, version: str, configPath: str, testPatterns: strs }, ['name']);
const testStatus: Schema = { type: 'string', enum: ['passed', 'failed', 'skipped', 'todo'] };
/** `{ 'test.result': 3, 'test.completed': 1 }` */
const eventTypeCounts: Schema = { type: 'object', properties: {}, additionalProperties: int };

/** Schema of `data` for each event type. */
export const eventDataSchemas: Record<EventType, Schema> = {
  'test.started': obj(
    {
      ...common,
      totalTests: int,
      testFiles: strs,
      options: { type: 'object' },
      totalKnown: bool,
      run: obj(
        {
          runId: str,
          framework: str,
          frameworkVersion: str,
          project: str,
          rootName: str,
          shard: obj({ current: int, total: int }, ['current', 'total']),
          pid: int,
          startedAt: num,
          watch: bool,
          ci: obj({ provider: str, branch: str, commit: str, buildUrl: str }),
        },
        ['runId', 'framework', 'startedAt'],
      ),
    },
    ['framework', 'totalTests', 'testFiles'],
  ),
  'test.progress': obj(
    {
      ...common,
      ...identity,
      testName: str,
      suite: str,
      status: str,
      progress: num,
      completed: int,
      total: int,
      duration: num,
      passed: int,
      failed: int,
      skipped: int,
      todo: int,
      totalKnown: bool,
      file: str,
    },
    ['framework', 'status', 'progress', 'completed', 'total', 'duration'],
  ),
  'test.result': obj(
    {
      ...common,
      ...identity,
      testName: str,
      suite: str,
      status: testStatus,
      duration: num,
      file: str,
      line: int,
      column: int,
      assertions: int,
      rawStatus: str,
      attempt: { type: 'integer', minimum: 1 },
      flaky: bool,
      willRetry: bool,
      timedOut: bool,
      error,
      errors: arr(error),
      repeatIndex: int,
      startedAt: num,
    },
    ['framework', 'id', 'titlePath', 'testName', 'suite', 'status', 'duration', 'file', 'attempt'],
  ),
  'test.failed': obj(
    {
      ...common,
      ...identity,
      testName: str,
      suite: str,
      status: { type: 'string', enum: ['failed'] },
      duration: num,
      error,
      errors: arr(error),
      file: str,
      line: int,
      scope: { type: 'string', enum: ['test', 'hook', 'file', 'run'] },
      attempt: { type: 'integer', minimum: 1 },
      timedOut: bool,
      willRetry: bool,
    },
    ['framework', 'testName', 'suite', 'status', 'duration', 'error', 'file'],
  ),
  'test.output': obj(
    {
      ...common,
      ...identity,
      testName: str,
      suite: str,
      output: str,
      outputType: { type: 'string', enum: ['stdout', 'stderr'] },
      stream: str,
      file: str,
    },
    ['output', 'outputType', 'stream'],
  ),
  'test.completed': obj(
    {
      ...common,
      summary: obj(
        {
          total: int,
          passed: int,
          failed: int,
          skipped: int,
          todo: int,
          flaky: int,
          duration: num,
          success: bool,
        },
        ['total', 'passed', 'failed', 'skipped', 'duration', 'success'],
      ),
      coverage: coverageTotals,
      rawStatus: str,
      errors: arr(error),
      interrupted: bool,
    },
    ['framework', 'summary'],
  ),
  'performance.metrics': obj(
    {
      ...common,
      memory: obj({ heapUsed: num, heapTotal: num, external: num, rss: num }, [
        'heapUsed',
        'heapTotal',
        'external',
        'rss',
      ]),
      cpu: obj({ usage: num, load: nums }, ['usage', 'load']),
      uptime: num,
      gc: obj({ recentEvents: int, totalTime: num, lastEventTime: str }, ['recentEvents', 'totalTime']),
      tests: obj({ running: int, completed: int, averageDuration: num }, [
        'running',
        'completed',
        'averageDuration',
      ]),
    },
    ['memory', 'cpu', 'uptime'],
  ),
  'performance.bottleneck': obj(
    {
      ...common,
      type: str,
      testName: str,
      duration: num,
      threshold: num,
      severity: str,
      suggestions: strs,
      memoryDelta: obj({ heapUsed: num, external: num }),
      id: str,
      file: str,
    },
    ['type', 'testName', 'duration', 'threshold', 'severity', 'suggestions'],
  ),
  'performance.leak': obj(
    {
      ...common,
      type: str,
      testName: str,
      leakType: str,
      size: num,
      location: str,
      stackTrace: strs,
      suggestions: strs,
    },
    ['type', 'testName', 'leakType', 'size'],
  ),
  'coverage.started': obj({ ...common, provider: str, totalFiles: int, patterns: strs }, [
    'framework',
    'provider',
    'totalFiles',
    'patterns',
  ]),
  'coverage.progress': obj(
    {
      ...common,
      filesProcessed: int,
      totalFiles: int,
      currentFile: str,
      percentage: num,
      coverage: coverageTotals,
    },
    ['filesProcessed', 'totalFiles', 'percentage', 'coverage'],
  ),
  'coverage.completed': obj(
    { ...common, provider: str, summary: coverageTotals, thresholdsMet: bool, files: int, reports: strs },
    ['framework', 'provider', 'summary', 'thresholdsMet', 'files', 'reports'],
  ),
  'coverage.threshold': obj(
    {
      ...common,
      passed: bool,
      thresholds: metricMap,
      actual: metricMap,
      perFile: bool,
      failures: arr(
        obj({ metric: str, threshold: num, actual: num, deficit: num, file: str, glob: str }, [
          'metric',
          'threshold',
          'actual',
          'deficit',
        ]),
      ),
    },
    ['passed', 'thresholds', 'actual', 'failures'],
  ),
  'framework.detected': obj({ ...common, frameworks: arr(frameworkInfo), active: str }, ['frameworks']),
  'framework.switched': obj(
    { ...common, from: str, to: str, reason: str, success: bool, framework: frameworkInfo },
    ['from', 'to', 'reason', 'success', 'framework'],
  ),
  'framework.error': obj(
    {
      ...common,
      error: obj({ message: str, code: str, details: { type: 'object' }, stack: str }, ['message']),
      severity: str,
    },
    ['framework', 'error', 'severity'],
  ),
  'baseline.saved': obj({ ...common, label: str, path: str, size: int, tests: int, coverage: num }, [
    'label',
    'framework',
    'path',
    'size',
    'tests',
  ]),
  'baseline.compared': obj(
    {
      ...common,
      baseline: str,
      comparison: obj(
        {
          testsAdded: int,
          testsRemoved: int,
          testsChanged: int,
          performanceRegression: bool,
          coverageImproved: bool,
          summary: obj({ regression: bool, improvement: bool, score: num }, [
            'regression',
            'improvement',
            'score',
          ]),
        },
        [
          'testsAdded',
          'testsRemoved',
          'testsChanged',
          'performanceRegression',
          'coverageImproved',
          'summary',
        ],
      ),
      regressions: arr(obj({ test: str, change: num, percentage: num }, ['test', 'change', 'percentage'])),
    },
    ['baseline', 'comparison', 'regressions'],
  ),
  'system.health': obj(
    {
      status: str,
      uptime: num,
      version: str,
      components: arr(obj({ name: str, status: str, message: str, lastCheck: str }, ['name', 'status'])),
      metrics: obj(
        {
          memory: obj({ total: num, used: num, percentage: num }, ['total', 'used', 'percentage']),
          cpu: obj({ cores: int, usage: num, load: nums }, ['cores', 'usage', 'load']),
        },
        ['memory', 'cpu'],
      ),
    },
    ['status', 'uptime', 'version', 'components', 'metrics'],
  ),
  'system.error': obj(
    {
      component: str,
      error: obj({ message: str, code: str, severity: str }, ['message', 'code', 'severity']),
      impact: str,
      recovery: str,
      gap: obj({ fromSeq: int, toSeq: int }, ['fromSeq', 'toSeq']),
      epoch: str,
      ...common,
      runId: str,
      dropped: eventTypeCounts,
      unconfirmed: eventTypeCounts,
    },
    ['component', 'error'],
  ),
};

/** Schema of the envelope every subscriber receives (`data` is refined per `type`). */
export const envelopeSchema: Schema = obj(
  { type: str, timestamp: str, seq: int, runId: str, data: { type: 'object' } },
  ['type', 'timestamp', 'seq', 'runId', 'data'],
);

const selectorList: Schema = arr(str);
const filterPrimitive: Schema = { type: ['string', 'number', 'boolean', 'null'] };
const filterValue: Schema = {
  type: ['string', 'number', 'boolean', 'null', 'array'],
  items: filterPrimitive,
};

/** Schemas of client -> server messages. */
export const clientMessageSchemas: Record<ClientMessage['type'], Schema> = {
  subscribe: obj(
    {
      type: { type: 'string', enum: ['subscribe'] },
      id: { type: ['string', 'number'] },
      events: selectorList,
      patterns: selectorList,
      filters: {
        type: 'object',
        additionalProperties: filterValue,
        description: 'data field (dot path) -> value or any-of array; runId matches the envelope',
      },
      resume: obj({ epoch: str, since: int }, ['epoch', 'since']),
    },
    ['type'],
  ),
  unsubscribe: obj(
    {
      type: { type: 'string', enum: ['unsubscribe'] },
      id: { type: ['string', 'number'] },
      events: selectorList,
      patterns: selectorList,
    },
    ['type'],
  ),
  resume: obj(
    {
      type: { type: 'string', enum: ['resume'] },
      id: { type: ['string', 'number'] },
      epoch: str,
      since: int,
    },
    ['type', 'epoch', 'since'],
  ),
  snapshot: obj({ type: { type: 'string', enum: ['snapshot'] }, id: { type: ['string', 'number'] } }, [
    'type',
  ]),
  ping: obj({ type: { type: 'string', enum: ['ping'] }, id: { type: ['string', 'number'] } }, ['type']),
};

const messageId: Schema = { type: ['string', 'number'] };
const constant = (value: string): Schema => ({ type: 'string', enum: [value] });
const subscriptionDescription = {
  events: strs,
  patterns: strs,
  excluded: strs,
  entries: arr(
    obj(
      {
        events: strs,
        patterns: strs,
        filters: { type: 'object', additionalProperties: filterValue },
        excluded: strs,
      },
      ['events', 'patterns'],
    ),
  ),
};
const runBrief = obj(
  { runId: str, framework: str, project: str, status: { type: 'string', enum: ['running', 'completed'] } },
  ['runId', 'framework', 'status'],
);
const runCounts = obj({ passed: int, failed: int, skipped: int, todo: int, flaky: int, completed: int }, [
  'passed',
  'failed',
  'skipped',
  'todo',
  'flaky',
  'completed',
]);
const testState = obj(
  {
    id: str,
    titlePath: strs,
    testName: str,
    suite: str,
    file: str,
    line: int,
    status: { type: 'string', enum: ['passed', 'failed', 'skipped', 'todo', 'running'] },
    duration: num,
    attempt: int,
    flaky: bool,
    willRetry: bool,
    error,
    project: str,
    seq: int,
  },
  ['id', 'titlePath', 'testName', 'suite', 'file', 'status', 'attempt', 'seq'],
);
const runSnapshot = obj(
  {
    runId: str,
    framework: str,
    project: str,
    run: { type: 'object' },
    status: { type: 'string', enum: ['running', 'completed'] },
    startedAt: str,
    completedAt: str,
    totalTests: int,
    totalKnown: bool,
    testFiles: strs,
    counts: runCounts,
    current: obj({ id: str, testName: str, file: str }),
    tests: arr(testState),
    errors: arr(obj({ scope: str, file: str, testName: str, error }, ['scope', 'error'])),
    summary: { type: 'object' },
    coverage: coverageTotals,
    lastSeq: int,
  },
  [
    'runId',
    'framework',
    'status',
    'totalTests',
    'totalKnown',
    'testFiles',
    'counts',
    'tests',
    'errors',
    'lastSeq',
  ],
);

/** Schemas of server -> client messages (and `published`, the owner's answer to a publisher). */
export const serverMessageSchemas: Record<ServerMessageType, Schema> = {
  'connection.established': obj(
    {
      type: constant('connection.established'),
      server: constant('testwire'),
      protocol: int,
      version: str,
      epoch: str,
      seq: int,
      connectionId: str,
      runs: arr(runBrief),
      subscription: obj(subscriptionDescription),
      heartbeatMs: int,
    },
    ['type', 'server', 'protocol', 'version', 'epoch', 'seq', 'connectionId', 'runs'],
  ),
  subscribed: obj({ type: constant('subscribed'), id: messageId, ...subscriptionDescription }, [
    'type',
    'events',
    'patterns',
    'excluded',
    'entries',
  ]),
  unsubscribed: obj({ type: constant('unsubscribed'), id: messageId, ...subscriptionDescription }, [
    'type',
    'events',
    'patterns',
    'excluded',
    'entries',
  ]),
  pong: obj({ type: constant('pong'), id: messageId, timestamp: str }, ['type', 'timestamp']),
  error: obj({ type: constant('error'), code: str, message: str, id: messageId }, [
    'type',
    'code',
    'message',
  ]),
  resumed: obj(
    { type: constant('resumed'), id: messageId, epoch: str, since: int, replayed: int, seq: int },
    ['type', 'epoch', 'since', 'replayed', 'seq'],
  ),
  'resume.failed': obj(
    {
      type: constant('resume.failed'),
      id: messageId,
      reason: { type: 'string', enum: ['EPOCH_CHANGED', 'HISTORY_EVICTED', 'FUTURE_SEQ', 'ALREADY_LIVE'] },
      message: str,
      epoch: str,
      since: int,
      oldestSeq: int,
    },
    ['type', 'reason', 'message', 'epoch', 'since', 'oldestSeq'],
  ),
  snapshot: obj({ type: constant('snapshot'), id: messageId, epoch: str, seq: int, runs: arr(runSnapshot) }, [
    'type',
    'epoch',
    'seq',
    'runs',
  ]),
  published: obj(
    {
      type: constant('published'),
      id: int,
      seq: int,
      rejected: arr(obj({ index: int, error: str }, ['index', 'error'])),
    },
    ['type', 'id', 'seq'],
  ),
};

/** Schema of the message a joining publisher sends to the owner. */
export const publishMessageSchema: Schema = obj(
  {
    type: constant('publish'),
    id: int,
    events: arr(
      obj({ type: str, runId: str, timestamp: str, data: { type: 'object' } }, ['type', 'runId', 'data']),
    ),
  },
  ['type', 'id', 'events'],
);

/** Schema of the message a publisher sends to re-seed its open runs after the owner changed. */
export const runsMessageSchema: Schema = obj({ type: constant('runs'), id: int, runs: arr(runSnapshot) }, [
  'type',
  'id',
  'runs',
]);

/** The whole JSON Schema document shipped as `schema/testwire.schema.json`. */
export function buildJsonSchemaDocument(): Record<string, unknown> {
  const eventDefs: Record<string, unknown> = {};
  const oneOf: unknown[] = [];
  for (const [type, data] of Object.entries(eventDataSchemas)) {
    const name = `event:${type}`;
    eventDefs[name] = {
      ...envelopeSchema,
      properties: { ...envelopeSchema.properties, type: { const: type }, data },
    };
    oneOf.push({ $ref: `#/$defs/${name}` });
  }
  const clientDefs: Record<string, unknown> = {};
  for (const [type, schema] of Object.entries(clientMessageSchemas)) clientDefs[`client:${type}`] = schema;
  const serverDefs: Record<string, unknown> = {};
  for (const [type, schema] of Object.entries(serverMessageSchemas)) serverDefs[`server:${type}`] = schema;
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: 'https://testwire.dev/schema/v1/testwire.schema.json',
    title: 'testwire wire protocol v1: an event envelope as received by subscribers',
    description:
      'The root validates one event envelope. $defs also holds every client message (client:*), server message (server:*) and publisher message (publisher:publish, publisher:runs). Protocol version 1: fields are only ever added.',
    oneOf,
    $defs: {
      ...eventDefs,
      ...clientDefs,
      ...serverDefs,
      'publisher:publish': publishMessageSchema,
      'publisher:runs': runsMessageSchema,
      envelope: envelopeSchema,
    },
  };
}

const typeOf = (value: unknown): string => {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return 'non-finite number';
    return Number.isInteger(value) ? 'integer' : 'number';
  }
  return typeof value;
};

const accepts = (expected: string, actual: string): boolean =>
  expected === actual || (expected === 'number' && actual === 'integer');

/**
 * Checks `value` against `schema`; returns `undefined` when it conforms, or a message naming the first
 * offending path (e.g. `data.summary.passed: expected integer, got string`).
 *
 * Runs for every event an owner receives from a publisher: the walk allocates nothing while the value
 * conforms (paths and messages are built only for the failure).
 */
export function validateSchema(schema: Schema, value: unknown, path = ''): string | undefined {
  const failure = compile(schema)(value);
  if (!failure) return undefined;
  let at = path;
  for (let i = failure.segments.length - 1; i >= 0; i--) {
    const segment = failure.segments[i] as string | number;
    at = typeof segment === 'number' ? `${at}[${segment}]` : at ? `${at}.${segment}` : segment;
  }
  return failure.message(at);
}

interface Failure {
  /** Keys and indexes from the offending value up to the root (innermost first). */
  segments: (string | number)[];
  message: (path: string) => string;
}

type Check = (value: unknown) => Failure | undefined;

/**
 * Each schema object is compiled once into a closure over its own fields: a generic walk reads `type`,
 * `enum`, `properties`… off schema objects of every shape (megamorphic, several µs per event); a closure
 * per schema sees one shape.
 */
const compiled = new WeakMap<Schema, Check>();

function compile(schema: Schema): Check {
  const known = compiled.get(schema);
  if (known) return known;
  const types =
    schema.type === undefined ? undefined : Array.isArray(schema.type) ? schema.type : [schema.type];
  const allowed = schema.enum;
  const minimum = schema.minimum;
  const required = schema.required ?? [];
  const listed = schema.properties ?? {};
  const itemsSchema = schema.items;
  const extraSchema = schema.additionalProperties;
  // Sub-schemas compile on first use (a schema may contain itself).
  let properties: (readonly [string, Check])[] | undefined;
  let items: Check | undefined;
  let extra: Check | undefined;

  const fn: Check = (value) => {
    const actual = typeOf(value);
    if (types !== undefined) {
      let ok = false;
      for (let i = 0; i < types.length; i++) if (accepts(types[i] as string, actual)) ok = true;
      if (!ok) return fail((path) => `${path || 'value'}: expected ${types.join(' or ')}, got ${actual}`);
    }
    if (allowed && !allowed.includes(value as never)) {
      return fail(
        (path) =>
          `${path || 'value'}: expected one of ${allowed.map((v) => JSON.stringify(v)).join(', ')}, got ${JSON.stringify(value)}`,
      );
    }
    if (minimum !== undefined && typeof value === 'number' && value < minimum) {
      return fail((path) => `${path || 'value'}: must be >= ${minimum}, got ${value}`);
    }
    if (actual === 'object') {
      const record = value as Record<string, unknown>;
      for (let i = 0; i < required.length; i++) {
        const key = required[i] as string;
        if (record[key] === undefined)
          return within(
            fail((path) => `${path}: required`),
            key,
          );
      }
      properties ??= Object.entries(listed).map(([key, sub]) => [key, compile(sub)] as const);
      for (let i = 0; i < properties.length; i++) {
        const [key, sub] = properties[i] as readonly [string, Check];
        const item = record[key];
        if (item === undefined) continue;
        const failure = sub(item);
        if (failure) return within(failure, key);
      }
      if (extraSchema) {
        extra ??= compile(extraSchema);
        for (const key in record) {
          if (!Object.hasOwn(record, key) || Object.hasOwn(listed, key) || record[key] === undefined)
            continue;
          const failure = extra(record[key]);
          if (failure) return within(failure, key);
        }
      }
    } else if (actual === 'array' && itemsSchema) {
      items ??= compile(itemsSchema);
      const list = value as unknown[];
      for (let i = 0; i < list.length; i++) {
        const failure = items(list[i]);
        if (failure) return within(failure, i);
      }
    }
    return undefined;
  };
  compiled.set(schema, fn);
  return fn;
}

function within(failure: Failure, segment: string | number): Failure {
  failure.segments.push(segment);
  return failure;
}

function fail(message: (path: string) => string): Failure {
  return { segments: [], message };
}
