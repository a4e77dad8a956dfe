/**
 * Vitest 4's reported tasks, for hooks-child.cjs: what `onTestCaseReady`, `onTestCaseResult` and the module
 * hooks hand a reporter, without a live Vitest. Copies of vitest 4.1's `TestCase`, `TestSuite`, `TestModule`
 * and `TestCollection` (dist/chunks/cli-api.*.js), reduced to what a reporter can read: each wraps a runner
 * task and reads it through getters and methods that build new objects at every call (`result()`,
 * `diagnostic()`, `options`, `annotations()`), collections are generators that look every child's reported
 * entity up in a WeakMap (Vitest's `reportedTasksMap`), so a reporter pays here what it pays in a run.
 */

/** Vitest's `state.reportedTasksMap`: runner task -> reported entity. */
const reported = new WeakMap();
const entityOf = (task) => {
  const entity = reported.get(task);
  if (!entity) throw new Error(`Task instance was not found for ${task.type} "${task.name}"`);
  return entity;
};
const project = { name: '', globalConfig: { slowTestThreshold: 300 } };

class ReportedTask {
  constructor(task) {
    this.task = task;
    this.project = project;
    this.id = task.id;
    this.location = task.location;
    reported.set(task, this);
  }
  ok() {
    const result = this.task.result;
    return result?.state !== 'fail';
  }
  meta() {
    return this.task.meta;
  }
}

function buildOptions(task) {
  return {
    each: task.each,
    fails: task.type === 'test' && task.fails,
    concurrent: task.concurrent,
    shuffle: task.shuffle,
    retry: task.retry,
    repeats: task.repeats,
    tags: task.tags,
    timeout: task.type === 'test' ? task.timeout : undefined,
    mode: task.mode,
  };
}

/** What a test and a suite read of their task alike: name, module, parent, options. */
function placeInTree(entity, task) {
  entity.name = task.name;
  entity.module = entityOf(task.file);
  entity.parent = task.suite ? entityOf(task.suite) : entity.module;
  entity.options = buildOptions(task);
}

class TestCase extends ReportedTask {
  type = 'test';
  constructor(task) {
    super(task);
    placeInTree(this, task);
    this.tags = this.options.tags || [];
  }
  result() {
    const result = this.task.result;
    const mode = result?.state || this.task.mode;
    if (!result && (mode === 'skip' || mode === 'todo'))
      return { state: 'skipped', note: undefined, errors: undefined };
    if (!result || result.state === 'run' || result.state === 'queued')
      return { state: 'pending', errors: undefined };
    const state = result.state === 'fail' ? 'failed' : result.state === 'pass' ? 'passed' : 'skipped';
    if (state === 'skipped') return { state, note: result.note, errors: undefined };
    if (state === 'passed') return { state, errors: result.errors };
    return { state, errors: result.errors || [] };
  }
  annotations() {
    return [...this.task.annotations];
  }
  artifacts() {
    return [...this.task.artifacts];
  }
  diagnostic() {
    const result = this.task.result;
    if (!result?.startTime) return undefined;
    const duration = result.duration || 0;
    return {
      slow: duration > this.project.globalConfig.slowTestThreshold,
      heap: result.heap,
      duration,
      startTime: result.startTime,
      retryCount: result.retryCount ?? 0,
      repeatCount: result.repeatCount ?? 0,
      flaky: !!result.retryCount && result.state === 'pass' && result.retryCount > 0,
    };
  }
}

class TestCollection {
  #task;
  constructor(task) {
    this.#task = task;
  }
  at(index) {
    if (index < 0) index = this.size + index;
    return entityOf(this.#task.tasks[index]);
  }
  get size() {
    return this.#task.tasks.length;
  }
  array() {
    return Array.from(this);
  }
  *allTests(state) {
    for (const child of this)
      if (child.type === 'suite') yield* child.children.allTests(state);
      else if (state) {
        if (state === child.result().state) yield child;
      } else yield child;
  }
  *allSuites() {
    for (const child of this)
      if (child.type === 'suite') {
        yield child;
        yield* child.children.allSuites();
      }
  }
  *[Symbol.iterator]() {
    for (const task of this.#task.tasks) yield entityOf(task);
  }
}

class Suite extends ReportedTask {
  constructor(task) {
    super(task);
    this.children = new TestCollection(task);
  }
  errors() {
    return this.task.result?.errors || [];
  }
}

class TestSuite extends Suite {
  type = 'suite';
  constructor(task) {
    super(task);
    placeInTree(this, task);
  }
  state() {
    return suiteState(this.task);
  }
}

class TestModule extends Suite {
  type = 'module';
  constructor(task) {
    super(task);
    this.moduleId = task.filepath;
    this.relativeModuleId = task.name;
  }
  state() {
    if (this.task.result?.state === 'queued') return 'queued';
    return suiteState(this.task);
  }
  diagnostic() {
    return {
      environmentSetupDuration: 0,
      prepareDuration: 0,
      collectDuration: 0,
      setupDuration: 0,
      duration: this.task.result?.duration || 0,
      heap: this.task.result?.heap,
      importDurations: {},
    };
  }
}

function suiteState(task) {
  const state = task.result?.state;
  if (task.mode === 'skip' || task.mode === 'todo' || state === 'skip' || state === 'todo') return 'skipped';
  if (state == null || state === 'run' || state === 'only') return 'pending';
  if (state === 'fail') return 'failed';
  return 'passed';
}

/**
 * One test file's reported module: `tests` passed tests in describe blocks of `perBlock` (ids as Vitest
 * makes them: the file's hash, then indexes), every result already in (the module has finished).
 */
function reportedFile(filepath, index, tests, perBlock) {
  const fileId = `f${index.toString(16).padStart(9, '0')}`;
  const file = {
    type: 'suite',
    id: fileId,
    name: filepath.split('/').at(-1),
    filepath,
    mode: 'run',
    tasks: [],
    meta: {},
    result: { state: 'pass', duration: 12 },
  };
  file.file = file;
  const module = new TestModule(file);
  for (let b = 0; b * perBlock < tests; b++) {
    const suite = {
      type: 'suite',
      id: `${fileId}_${b}`,
      name: `block ${b}`,
      mode: 'run',
      file,
      suite: undefined,
      tasks: [],
      meta: {},
      location: { line: 2 + b * (perBlock * 6 + 2), column: 1 },
      result: { state: 'pass', duration: 3 },
    };
    file.tasks.push(suite);
    new TestSuite(suite);
    for (let t = b * perBlock; t < Math.min(tests, (b + 1) * perBlock); t++) {
      const test = {
        type: 'test',
        id: `${fileId}_${b}_${t - b * perBlock}`,
        name: `computes case ${index}.${t}`,
        mode: 'run',
        file,
        suite,
        fails: false,
        retry: 0,
        repeats: 0,
        tags: [],
        timeout: 5000,
        location: { line: suite.location.line + 1 + (t - b * perBlock) * 6, column: 3 },
        annotations: [],
        artifacts: [],
        meta: {},
        result: {
          state: 'pass',
          startTime: 1_765_000_000_000 + t,
          duration: 0.2,
          retryCount: 0,
          repeatCount: 0,
        },
      };
      suite.tasks.push(test);
      new TestCase(test);
    }
  }
  return module;
}

module.exports = { reportedFile };
