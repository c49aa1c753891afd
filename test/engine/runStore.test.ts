import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MetricsRecord, StepMetrics, ValidationMetrics } from '../../engine/train/metrics';
import { createRun, lastStepRecord, listRuns, MetricsWriter, openRun, readMetrics, RunNotFoundError, truncateMetricsAfter } from '../../engine/train/runStore';
import { withTempDir } from './setup';


function stepRecord(step: number): StepMetrics {
  return {
    type: 'step',
    step,
    time: 1_700_000_000_000 + step,
    tokens: 100 + step,
    tokensPerSecond: 1234.5 + step,
    learningRate: 0.01 / step,
    loss: 5 - step / 10,
    crossEntropy: 4.9 - step / 10,
    auxLoss: 2.01,
    zLoss: 0.5,
    gradNorm: 0.75,
    layers: [
      {
        layer: 'encoder.block.1',
        numExperts: 4,
        capacity: 10,
        assignments: 32,
        routed: [12, 8, 8, 4],
        kept: [10, 8, 8, 4],
        shares: [12 / 32, 8 / 32, 8 / 32, 4 / 32],
        dropped: 2,
        overflowRate: 2 / 32,
        routerEntropy: 1.2,
        normalizedEntropy: 1.2 / Math.log(4),
        loadCv: 0.35,
        maxShare: 12 / 32,
        unusedExperts: 0,
        meanProb: [0.3, 0.25, 0.25, 0.2],
      },
    ],
  };
}

function validationRecord(step: number): ValidationMetrics {
  return { type: 'validation', step, time: 1_700_000_000_500 + step, loss: 4.5, crossEntropy: 4.4 };
}

/** Steps 1..n, with a validation record after every even step. */
function records(n: number): MetricsRecord[] {
  const out: MetricsRecord[] = [];
  for (let s = 1; s <= n; s++) {
    out.push(stepRecord(s));
    if (s % 2 === 0) out.push(validationRecord(s));
  }
  return out;
}

function writeRecords(file: string, recs: MetricsRecord[]): void {
  const w = new MetricsWriter(file);
  try {
    for (const r of recs) w.append(r);
  } finally {
    w.close();
  }
}

test('records appended by MetricsWriter read back unchanged, across reopenings', () => {
  withTempDir('runstore', (dir) => {
    const file = join(dir, 'metrics.jsonl');
    const all = records(5);
    writeRecords(file, all.slice(0, 3));
    writeRecords(file, all.slice(3)); // a second writer appends, never truncates
    const text = readFileSync(file, 'utf8');
    assert.ok(text.endsWith('\n'), 'every record ends with a newline');
    assert.equal(text.split('\n').length - 1, all.length, 'one line per record');
    const read = readMetrics(file);
    assert.deepEqual(read.warnings, []);
    assert.deepEqual(read.records, all);
  });
});

test('a missing metrics file reads as no records and no warnings', () => {
  withTempDir('runstore', (dir) => {
    assert.deepEqual(readMetrics(join(dir, 'metrics.jsonl')), { records: [], warnings: [] });
  });
});

test('a torn last line (a crash mid-write) is skipped with a warning; earlier records are kept', () => {
  withTempDir('runstore', (dir) => {
    const file = join(dir, 'metrics.jsonl');
    const all = records(4);
    writeRecords(file, all);
    const partial = JSON.stringify(stepRecord(5)).slice(0, 57);
    appendFileSync(file, partial); // no newline: the write was cut short
    const read = readMetrics(file);
    assert.deepEqual(read.records, all);
    assert.equal(read.warnings.length, 1);
    const lineNo = all.length + 1;
    assert.match(read.warnings[0], /torn last line/);
    assert.ok(read.warnings[0].includes(`${file}:${lineNo}:`), `the warning names the file and line ${lineNo}: ${read.warnings[0]}`);
  });
});

test('a corrupt line in the middle is skipped with a warning naming it, not called torn', () => {
  withTempDir('runstore', (dir) => {
    const file = join(dir, 'metrics.jsonl');
    const all = records(3); // step 1, step 2, validation 2, step 3
    const lines = all.map((r) => JSON.stringify(r));
    // Line 2 is not JSON; line 4 is JSON that does not validate (a negative step).
    const bad = [lines[0], '{"type":"step","step":2,"lo', lines[2], JSON.stringify({ ...stepRecord(3), step: -1 }), lines[3]];
    writeFileSync(file, bad.join('\n') + '\n');
    const read = readMetrics(file);
    assert.deepEqual(read.records, [all[0], all[2], all[3]]);
    assert.equal(read.warnings.length, 2);
    assert.ok(read.warnings[0].includes(`${file}:2:`), read.warnings[0]);
    assert.ok(read.warnings[1].includes(`${file}:4:`), read.warnings[1]);
    for (const w of read.warnings) {
      assert.match(w, /skipped an unreadable metrics line/);
      assert.doesNotMatch(w, /torn/);
    }
  });
});

test('truncateMetricsAfter keeps records up to the step, drops the torn line, and the file reads cleanly', () => {
  withTempDir('runstore', (dir) => {
    const file = join(dir, 'metrics.jsonl');
    const all = records(6);
    writeRecords(file, all);
    appendFileSync(file, '{"type":"step","step":7,"ti');
    const expected = all.filter((r) => r.step <= 4);
    assert.ok(expected.some((r) => r.type === 'validation' && r.step === 4), 'the validation at the cut step is kept');

    const truncated = truncateMetricsAfter(file, 4);
    assert.deepEqual(truncated.records, expected);
    assert.equal(truncated.warnings.length, 1, 'the torn line it dropped is reported');
    assert.match(truncated.warnings[0], /torn last line/);

    const reread = readMetrics(file);
    assert.deepEqual(reread.warnings, []);
    assert.deepEqual(reread.records, expected);
    assert.ok(readFileSync(file, 'utf8').endsWith('\n'));
    assert.deepEqual(readdirSync(dir), ['metrics.jsonl'], 'no temporary file is left behind');

    // A writer opened afterwards continues the file as one run.
    writeRecords(file, [stepRecord(5)]);
    assert.deepEqual(readMetrics(file), { records: [...expected, stepRecord(5)], warnings: [] });
  });
});

test('truncateMetricsAfter at step 0 empties the file', () => {
  withTempDir('runstore', (dir) => {
    const file = join(dir, 'metrics.jsonl');
    writeRecords(file, records(2));
    assert.deepEqual(truncateMetricsAfter(file, 0).records, []);
    assert.equal(readFileSync(file, 'utf8'), '');
  });
});

test('openRun opens a run by id and refuses unknown ids and ids that are paths', () => {
  withTempDir('runstore', (dir) => {
    const runsA = join(dir, 'a');
    const runsB = join(dir, 'b');
    const run = createRun(runsA, 'tiny');
    run.writeJson('config.json', { preset: 'tiny' });
    const other = createRun(runsB, 'tiny');
    other.writeJson('config.json', { preset: 'tiny' });
    // A folder without config.json is not a run.
    mkdirSync(join(runsA, 'half-made'));

    assert.match(run.id, /^\d{8}-\d{6}-tiny-[0-9a-f]{4}$/);
    assert.deepEqual(listRuns(runsA), [run.id]);
    const opened = openRun(runsA, run.id);
    assert.equal(opened.path, run.path);
    assert.deepEqual(opened.readJson('config.json'), { preset: 'tiny' });

    const refused = ['nope', 'half-made', '..', '.', '', `../b/${other.id}`, `b/${other.id}`, `..\\b\\${other.id}`, join(runsB, other.id), `${run.id}/`, `${run.id}\0`];
    for (const id of refused) {
      assert.throws(
        () => openRun(runsA, id),
        (err: unknown) => {
          assert.ok(err instanceof RunNotFoundError, `id ${JSON.stringify(id)}: ${String(err)}`);
          assert.ok(err.message.includes(`'${id}'`) && err.message.includes(runsA), err.message);
          return true;
        },
        `id ${JSON.stringify(id)} must be refused`,
      );
    }
    // The run in the other folder exists: the refusal above is about the id's form, not a lookup miss.
    assert.ok(existsSync(join(runsB, other.id, 'config.json')));
  });
});

test('lastStepRecord reads the last step record from the tail, past validations and a torn line', () =>
  withTempDir('laststep', (dir) => {
    const file = join(dir, 'metrics.jsonl');
    assert.equal(lastStepRecord(file), undefined, 'no file: no step');
    writeRecords(file, records(4)); // ends with a validation after step 4
    assert.deepEqual(lastStepRecord(file), stepRecord(4));
    appendFileSync(file, JSON.stringify(stepRecord(5)).slice(0, 40)); // torn mid-write
    assert.deepEqual(lastStepRecord(file), stepRecord(4), 'a torn last line is not a record');
  }));

test('lastStepRecord widens its window until a step record is in it (a tail of validations over 64 KB)', () =>
  withTempDir('laststep', (dir) => {
    const file = join(dir, 'metrics.jsonl');
    const recs: MetricsRecord[] = [stepRecord(1), stepRecord(2)];
    for (let i = 0; i < 5000; i++) recs.push(validationRecord(2)); // ~400 KB of validations
    writeFileSync(file, recs.map((r) => JSON.stringify(r) + '\n').join(''));
    assert.ok(readFileSync(file).length > 4 * 64 * 1024, 'past the second window');
    assert.deepEqual(lastStepRecord(file), stepRecord(2));
    writeRecords(join(dir, 'only-validations.jsonl'), [validationRecord(1)]);
    assert.equal(lastStepRecord(join(dir, 'only-validations.jsonl')), undefined);
  }));
