import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isSparseLayer, type SwitchConfig } from '../../engine/model/config';
import { listRuns } from '../../engine/train/runStore';
import { fillsInOutput, sentences } from './setup';

const root = join(__dirname, '..', '..');
const bundle = join(root, 'dist', 'engine.js');
/** The installed command, spawned as a user's shell would: every test goes through it. */
const bin = join(root, 'bin', 'switchyard.js');
const backend = process.env.SWITCHYARD_BACKEND ?? 'wasm';


const TINY_CONFIG = {
  model: { dModel: 32, dKv: 8, dFf: 64, numHeads: 2, numExperts: 4, numLayers: 2, numDecoderLayers: 2 },
  training: { batchSize: 4, inputLength: 32, vocabSize: 600, validateEvery: 2, checkpointEvery: 2, validationBatches: 1 },
};

const temps: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-cli-'));
  temps.push(dir);
  return dir;
}
after(() => temps.forEach((d) => rmSync(d, { recursive: true, force: true })));

function cli(args: string[], cwd: string) {
  const res = spawnSync(process.execPath, [bin, ...args], { cwd, encoding: 'utf8', timeout: 60_000 });
  assert.equal(res.error, undefined, `spawn failed: ${res.error}`);
  return { code: res.status, stdout: res.stdout, stderr: res.stderr };
}

/** Every file below `dir` with its size and modification time: to check that nothing was written. */
function listing(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((p) => {
      const s = statSync(join(dir, p));
      return `${p} ${s.isDirectory() ? 'dir' : s.size} ${s.mtimeMs}`;
    })
    .sort();
}

/** Asserts one clear error: exit 1, one `switchyard: ` line matching every pattern, no stack, nothing on stdout. */
function assertFails(r: ReturnType<typeof cli>, patterns: RegExp[]): string {
  assert.equal(r.code, 1, `exit code (stderr: ${r.stderr.slice(0, 2000)})`);
  assert.equal(r.stdout, '', 'nothing on stdout');
  const lines = r.stderr.split('\n').filter((l) => l.startsWith('switchyard: '));
  assert.equal(lines.length, 1, `exactly one error line in:\n${r.stderr.slice(0, 2000)}`);
  const message = r.stderr.slice(r.stderr.indexOf('switchyard: '));
  for (const p of patterns) assert.match(message, p);
  assert.doesNotMatch(r.stderr, /^\s+at /m, 'no stack trace');
  assert.ok(r.stderr.length < 4000, `a short message, not a dump (${r.stderr.length} chars)`);
  return message;
}

/** Runs the CLI in a fresh folder with `--runs <tmp>/runs` and checks it fails without writing a run. */
function failsCleanly(args: string[], patterns: RegExp[], setup?: (cwd: string) => void): string {
  const cwd = tempDir();
  setup?.(cwd);
  const runs = join(cwd, 'runs');
  const message = assertFails(cli([...args, '--runs', runs], cwd), patterns);
  assert.ok(!existsSync(runs), 'the runs folder was not created');
  return message;
}

before(() => {
  if (!existsSync(bundle)) {
    const r = spawnSync(process.platform === 'win32' ? 'npm.cmd' : 'npm', ['run', 'build'], { cwd: root, encoding: 'utf8' });
    assert.equal(r.status, 0, `npm run build failed: ${r.stderr}`);
  }
});

test('an unknown command', () => {
  failsCleanly(['frobnicate'], [/^switchyard: unknown command 'frobnicate'/, /usage: switchyard/]);
});

test('an unknown flag', () => {
  failsCleanly(['train', '--bogus'], [/^switchyard: Unknown option '--bogus'/, /usage: switchyard/]);
});

test('--steps must be a positive whole number', () => {
  failsCleanly(['train', '--steps', '0'], [/^switchyard: --steps must be a positive whole number, not '0'/]);
  failsCleanly(['train', '--steps', 'abc'], [/^switchyard: --steps must be a positive whole number, not 'abc'/]);
});

test('an unknown backend', () => {
  failsCleanly(['train', '--backend', 'gpu'], [/^switchyard: --backend must be one of auto, tensorflow, wasm, cpu, not 'gpu'/]);
});

test('a config file that cannot be read', () => {
  failsCleanly(['train', '--config', 'missing.json'], [/^switchyard: cannot read config file missing\.json: ENOENT/]);
});

test('a config file that is not JSON', () => {
  failsCleanly(['train', '--config', 'config.json'], [/^switchyard: config file config\.json is not valid JSON/], (cwd) =>
    writeFileSync(join(cwd, 'config.json'), '{ "model": { "dModel": 32, }'),
  );
});

test('a config file with bad fields names every one of them', () => {
  const msg = failsCleanly(['train', '--config', 'config.json'], [/^switchyard: invalid/, /model\.dModel/, /model\.router/, /training\.batchSize/], (cwd) =>
    writeFileSync(join(cwd, 'config.json'), JSON.stringify({ model: { dModel: -1, router: 'top3' }, training: { batchSize: 0 } })),
  );
  assert.doesNotMatch(msg, /model\.dKv|training\.steps/, 'only the bad fields are named');
});

test('a corpus path that does not exist', () => {
  failsCleanly(['train', '--corpus', '/nonexistent/path', '--backend', backend], [/^switchyard: path not found: \/nonexistent\/path/]);
});

test('a corpus folder that is empty', () => {
  failsCleanly(['train', '--corpus', 'corpus', '--backend', backend], [/^switchyard: no files in folder .*corpus/], (cwd) => mkdirSync(join(cwd, 'corpus')));
});

test('a corpus folder holding one binary file', () => {
  failsCleanly(['train', '--corpus', 'corpus', '--backend', backend], [/^switchyard: no text in .*image\.png: it is a binary file/], (cwd) => {
    mkdirSync(join(cwd, 'corpus'));
    writeFileSync(join(cwd, 'corpus', 'image.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52]));
  });
});

test('experiment: an unknown grid, two budgets, a bad --minutes or --seeds, no grid, an unknown experiment', () => {
  failsCleanly(['experiment', 'nope'], [/^switchyard: 'nope' is neither a built-in grid \(experts, capacity, routers, exploration, precision\) nor a grid file/]);
  failsCleanly(['experiment', 'routers', '--steps', '5', '--minutes', '2'], [/^switchyard: give --steps or --minutes, not both/]);
  failsCleanly(['experiment', 'routers', '--minutes', 'soon'], [/^switchyard: --minutes must be a positive number, not 'soon'/]);
  failsCleanly(['experiment'], [/^switchyard: experiment takes one grid/, /usage: switchyard/]);
  failsCleanly(['experiment', '--resume', 'nope'], [/^switchyard: no experiment 'nope'/]);
  failsCleanly(['experiment', 'routers', '--resume', 'x'], [/^switchyard: --resume carries on an experiment as it was defined/]);
  failsCleanly(['experiment', '--resume', 'x', '--seeds', '3'], [/^switchyard: --resume carries on an experiment as it was defined/]);
  failsCleanly(['experiment', 'routers', '--seeds', '0'], [/^switchyard: --seeds must be a positive whole number, not '0'/]);
  failsCleanly(['experiment', 'routers', '--seeds', '11'], [/^switchyard: --seeds is at most 10, not 11/]);
});

test('experiment: a grid file with bad fields names every one, with its entry', () => {
  const msg = failsCleanly(['experiment', 'grid.json'], [/^switchyard: invalid config/, /\[0\]\.model\.router/, /\[1\]\.training\.seed: fixed across/, /\[2\]\.bogus: unknown field/], (cwd) =>
    writeFileSync(join(cwd, 'grid.json'), JSON.stringify([{ model: { router: 'top3' } }, { training: { seed: 4 } }, { bogus: true }, { model: { numExperts: 4 } }])),
  );
  assert.doesNotMatch(msg, /\[3\]/, 'the good entry is not named');
  failsCleanly(['experiment', 'grid.json'], [/^switchyard: grid file grid\.json is not valid JSON/], (cwd) => writeFileSync(join(cwd, 'grid.json'), '[{'));
});

test('infer on a run that does not exist', () => {
  failsCleanly(['infer', '--run', 'nope', '--text', 'hi'], [/^switchyard: no run 'nope' in .*runs/]);
});

test('infer without --run or --text', () => {
  failsCleanly(['infer', '--text', 'hi'], [/^switchyard: --run is required/, /usage: switchyard/]);
  failsCleanly(['infer', '--run', 'some-run'], [/^switchyard: --text is required/]);
});

test('the installed command prints its usage and runs info (not only the bundle)', () => {
  const cwd = tempDir();
  const usage = cli(['--help'], cwd);
  assert.equal(usage.code, 0);
  assert.match(usage.stdout, /^usage: switchyard <command>/);
  const info = cli(['info', '--backend', backend], cwd);
  assert.equal(info.code, 0, info.stderr);
  assert.equal(JSON.parse(info.stdout).backend.name, backend);
});

test('a config too big for the backend is refused in one line before a run folder exists', () => {
  // Each of these once created a run folder and then crashed (or hung, for inputLength).
  for (const overrides of [{ model: { dFf: 1e12 } }, { model: { numLayers: 1e12 } }, { training: { batchSize: 1e12 } }, { training: { inputLength: 1e12 } }]) {
    failsCleanly(['train', '--config', 'config.json', '--backend', backend], [/^switchyard: this config cannot train here: .* need at least [\d.]+ [KMGTPE]iB; .* [\d.]+ GiB(; set training\.microBatchSize to \d+ or less to accumulate the batch in smaller passes)?\n/], (cwd) =>
      writeFileSync(join(cwd, 'config.json'), JSON.stringify(overrides)),
    );
  }
});

test('--run and --resume given a path that is not a run folder', () => {
  failsCleanly(['infer', '--run', 'runs/nope/', '--text', 'hi'], [/^switchyard: runs\/nope\/ is not a run folder \(it has no config\.json\)/]);
  failsCleanly(['train', '--resume', './elsewhere'], [/^switchyard: \.\/elsewhere is not a run folder/]);
});

test('--resume with a new config is refused', () => {
  failsCleanly(['train', '--resume', 'X', '--preset', 'tiny'], [/^switchyard: --resume continues a run with its own config/, /--preset/]);
});

// A real run, trained by the CLI on a small corpus of the user's own text files.
let runCwd: string;
let runsDir: string;
let runId: string;
let modelConfig: SwitchConfig;

function createTinyRun(): void {
  runCwd = tempDir();
  const corpus = join(runCwd, 'corpus');
  mkdirSync(corpus);
  for (let i = 0; i < 4; i++) writeFileSync(join(corpus, `part${i}.txt`), sentences(40, 2000 + i) + '\n');
  writeFileSync(join(runCwd, 'config.json'), JSON.stringify(TINY_CONFIG));
  runsDir = join(runCwd, 'runs');
  // The corpus as a path relative to the working folder, as a user types it.
  const r = cli(['train', '--config', 'config.json', '--corpus', 'corpus', '--steps', '2', '--backend', backend, '--runs', runsDir], runCwd);
  assert.equal(r.code, 0, r.stderr.slice(0, 3000));
  assert.equal(r.stdout, '', 'progress goes to stderr');
  assert.match(r.stderr, /completed at step 2/);
  const runs = listRuns(runsDir);
  assert.equal(runs.length, 1);
  runId = runs[0];
  const config = JSON.parse(readFileSync(join(runsDir, runId, 'config.json'), 'utf8'));
  assert.equal(config.training.steps, 2);
  assert.equal(config.model.dModel, 32);
  assert.deepEqual(config.corpus, { kind: 'files', spec: corpus }, 'the run stores where its corpus is, absolutely');
  modelConfig = config.model;
}

test('the CLI trains a tiny run on a folder of text files', () => {
  createTinyRun();
  assert.ok(existsSync(join(runsDir, runId, 'checkpoints', 'step-2', 'manifest.json')));
});

test('infer on an empty text fails clearly and writes nothing', () => {
  assert.ok(runId, 'the tiny run exists');
  const before = listing(runsDir);
  assertFails(cli(['infer', '--run', runId, '--text', '   ', '--runs', runsDir, '--backend', backend], runCwd), [/^switchyard: there is no text/]);
  assertFails(cli(['infer', '--run', runId, '--text', '', '--runs', runsDir, '--backend', backend], runCwd), [/^switchyard: --text is required/]);
  assert.deepEqual(listing(runsDir), before);
});

interface InferJson {
  run: string;
  step: number;
  tokens: { id: number; text: string; start: number; end: number }[];
  layers: { layer: string; numExperts: number; capacity: number; tokens: { expert: number; prob: number; dropped: boolean; entropy: number }[] }[];
  fills: { sentinel: number; text: string | null }[];
  output: string;
}

function inferJson(text: string): InferJson {
  const r = cli(['infer', '--run', runId, '--text', text, '--json', '--max-tokens', '8', '--runs', runsDir, '--backend', backend], runCwd);
  assert.equal(r.code, 0, r.stderr.slice(0, 3000));
  return JSON.parse(r.stdout) as InferJson;
}

test('infer --json gives the tokens, one routing entry per token for each sparse encoder layer, and fills', () => {
  assert.ok(runId, 'the tiny run exists');
  const text = 'The old river walks slowly under the bright station.';
  const out = inferJson(text);
  assert.equal(out.run, runId);
  assert.equal(out.step, 2);
  assert.ok(out.tokens.length > 0);
  assert.equal(out.tokens.map((t) => t.text).join(''), text, 'the tokens cover the text');
  for (const t of out.tokens) {
    assert.equal(text.slice(t.start, t.end), t.text);
    assert.ok(Number.isInteger(t.id) && t.id >= 0 && t.id < modelConfig.vocabSize);
  }
  const sparse = Array.from({ length: modelConfig.numLayers }, (_, i) => i).filter((i) => isSparseLayer(modelConfig, i, modelConfig.encoderSparseStep));
  assert.ok(sparse.length > 0);
  assert.deepEqual(
    out.layers.map((l) => l.layer),
    sparse.map((i) => `encoder.block.${i}.layer.1`),
  );
  for (const l of out.layers) {
    assert.equal(l.numExperts, modelConfig.numExperts);
    assert.equal(l.tokens.length, out.tokens.length, `${l.layer}: one routing entry per token`);
    for (const r of l.tokens) {
      assert.ok(Number.isInteger(r.expert) && r.expert >= 0 && r.expert < l.numExperts, `expert ${r.expert}`);
      assert.ok(r.prob > 0 && r.prob <= 1, `prob ${r.prob}`);
      assert.equal(typeof r.dropped, 'boolean');
      assert.ok(r.entropy >= 0 && r.entropy <= Math.log(l.numExperts) + 1e-5, `entropy ${r.entropy}`);
    }
  }
  // No sentinel in the text: no fill.
  assert.deepEqual(out.fills, []);
  assert.equal(typeof out.output, 'string');
});

test('infer with sentinels in the text reads each as one token and gives exactly one fill per sentinel, in order', () => {
  assert.ok(runId, 'the tiny run exists');
  const out = inferJson('The <extra_id_0> walks into a bar. She said <extra_id_1> to the bartender.');
  const sentinels = out.tokens.filter((t) => /^<extra_id_\d+>$/.test(t.text));
  assert.deepEqual(sentinels.map((t) => t.text), ['<extra_id_0>', '<extra_id_1>'], 'each sentinel is one token');
  assert.equal(sentinels[0].id, modelConfig.vocabSize - 1, '<extra_id_0> is the top id, as in T5');
  // Each fill is what the decoded output holds after its sentinel (null where it has none).
  assert.deepEqual(out.fills, fillsInOutput(out.output, [0, 1]), out.output);
  // Decoding stops at the sentinel after the input's last one: nothing follows <extra_id_2>.
  const stop = out.output.indexOf('<extra_id_2>');
  if (stop >= 0) assert.equal(out.output.slice(stop), '<extra_id_2>', out.output);

  const byPath = cli(['infer', '--run', join(runsDir, runId) + '/', '--text', 'The <extra_id_0> walks.', '--json', '--max-tokens', '8', '--backend', backend], tempDir());
  assert.equal(byPath.code, 0, byPath.stderr.slice(0, 3000));
  assert.equal(JSON.parse(byPath.stdout).run, runId, 'a run folder path (trailing slash and all) names the run');

  const plain = cli(['infer', '--run', runId, '--text', 'The teacher <extra_id_0> the letter.', '--max-tokens', '8', '--runs', runsDir, '--backend', backend], runCwd);
  assert.equal(plain.code, 0, plain.stderr.slice(0, 3000));
  assert.match(plain.stdout, new RegExp(`^run ${runId} at step 2\\n(sentinel fills:|output: )`));
  assert.match(plain.stdout, /"<extra_id_0>"\s+expert\s+\d+ p=\d\.\d{3}/);
});

test('--resume continues the run from another working folder, on the same corpus', () => {
  assert.ok(runId, 'the tiny run exists');
  const elsewhere = tempDir();
  // A folder of the same name here must not be read instead of the run's own corpus.
  mkdirSync(join(elsewhere, 'corpus'));
  writeFileSync(join(elsewhere, 'corpus', 'other.txt'), 'Something else entirely.\n');
  const r = cli(['train', '--resume', runId, '--steps', '3', '--backend', backend, '--runs', runsDir], elsewhere);
  assert.equal(r.code, 0, r.stderr.slice(0, 3000));
  assert.match(r.stderr, /from step 2/);
  assert.match(r.stderr, /completed at step 3/);
  assert.deepEqual(listRuns(runsDir), [runId], 'no new run');
  assert.ok(existsSync(join(runsDir, runId, 'checkpoints', 'step-3', 'manifest.json')));
  assert.deepEqual(readdirSync(elsewhere), ['corpus'], 'nothing written in the working folder');

  const byPath = cli(['train', '--resume', join(runsDir, runId) + '/', '--steps', '4', '--backend', backend], elsewhere);
  assert.equal(byPath.code, 0, byPath.stderr.slice(0, 3000));
  assert.match(byPath.stderr, /from step 3/);
  assert.match(byPath.stderr, /completed at step 4/);
  assert.deepEqual(listRuns(runsDir), [runId], 'a path resumes the same run');
});

test('distill: a dense student from the teacher, 0.25 soft + 0.75 hard, and it resumes with its teacher', () => {
  assert.ok(runId, 'the tiny run exists');
  const r = cli(['distill', '--teacher', runId, '--steps', '2', '--backend', backend, '--runs', runsDir], runCwd);
  assert.equal(r.code, 0, r.stderr.slice(0, 3000));
  assert.match(r.stderr, /student: \d+ of \d+ weights copied from the teacher \(step \d+\)/);
  const student = listRuns(runsDir).find((id) => id !== runId)!;
  const config = JSON.parse(readFileSync(join(runsDir, student, 'config.json'), 'utf8'));
  assert.equal(config.model.router, 'dense');
  assert.equal(config.model.dModel, modelConfig.dModel);
  assert.deepEqual(JSON.parse(readFileSync(join(runsDir, student, 'origin.json'), 'utf8')).from, join(runsDir, runId));
  assert.deepEqual(JSON.parse(readFileSync(join(runsDir, student, 'tokenizer.json'), 'utf8')), JSON.parse(readFileSync(join(runsDir, runId, 'tokenizer.json'), 'utf8')), "the teacher's tokenizer");
  const resumed = cli(['train', '--resume', student, '--steps', '3', '--backend', backend, '--runs', runsDir], runCwd);
  assert.equal(resumed.code, 0, resumed.stderr.slice(0, 3000));
  assert.match(resumed.stderr, /completed at step 3/);
  // The student is dense, so it can stand as the baseline of a second distillation.
  const withBaseline = cli(['distill', '--teacher', runId, '--baseline', student, '--steps', '1', '--backend', backend, '--runs', runsDir], runCwd);
  assert.equal(withBaseline.code, 0, withBaseline.stderr.slice(0, 3000));
  assert.match(withBaseline.stderr, /(the student keeps -?\d+\.\d% of the teacher's gain over the dense baseline|the teacher is no better than the baseline: no gain to keep) \(last validation cross-entropy: baseline \d+\.\d{3}, teacher \d+\.\d{3}, student \d+\.\d{3}\)/);
  for (const id of listRuns(runsDir)) if (id !== runId) rmSync(join(runsDir, id), { recursive: true });
});

test('finetune: a new run from the newest checkpoint, on another corpus, with expert dropout 0.4 and dropout 0.1', () => {
  assert.ok(runId, 'the tiny run exists');
  mkdirSync(join(runCwd, 'other'));
  writeFileSync(join(runCwd, 'other', 'a.txt'), sentences(30, 77) + '\n');
  writeFileSync(join(runCwd, 'other', 'b.txt'), sentences(30, 78) + '\n');
  const r = cli(['finetune', '--from', runId, '--corpus', 'other', '--steps', '1', '--backend', backend, '--runs', runsDir], runCwd);
  assert.equal(r.code, 0, r.stderr.slice(0, 3000));
  const tuned = listRuns(runsDir).find((id) => id !== runId)!;
  const config = JSON.parse(readFileSync(join(runsDir, tuned, 'config.json'), 'utf8'));
  assert.deepEqual([config.model.expertDropoutRate, config.model.dropoutRate], [0.4, 0.1]);
  assert.deepEqual(config.corpus, { kind: 'files', spec: join(runCwd, 'other') });
  assert.equal(config.model.router, modelConfig.router);
  const origin = JSON.parse(readFileSync(join(runsDir, tuned, 'origin.json'), 'utf8'));
  assert.deepEqual([origin.kind, origin.from], ['finetune', join(runsDir, runId)]);
  rmSync(join(runsDir, tuned), { recursive: true });
});

test('distill and finetune errors', () => {
  failsCleanly(['distill', '--teacher', 'nope'], [/^switchyard: no run 'nope' in/]);
  failsCleanly(['distill'], [/^switchyard: --teacher is required/]);
  failsCleanly(['finetune', '--from', 'x'], [/^switchyard: --corpus is required/]);
  assert.ok(runId, 'the tiny run exists');
  assertFails(cli(['distill', '--teacher', runId, '--baseline', runId, '--runs', runsDir], runCwd), [/^switchyard: --baseline: run .* is not dense/]);
  const bad = cli(['finetune', '--from', runId, '--corpus', 'other', '--expert-dropout', '1.5', '--runs', runsDir], runCwd);
  assertFails(bad, [/^switchyard: --expert-dropout must be a rate in \[0, 1\), not '1\.5'/]);
});

test('analyze: a run of user text is labelled by token class; a bad checkpoint or no --run is one clear error', () => {
  assert.ok(runId, 'the tiny run exists');
  const r = cli(['analyze', '--run', runId, '--json', '--runs', runsDir, '--backend', backend], runCwd);
  assert.equal(r.code, 0, r.stderr.slice(0, 3000));
  const a = JSON.parse(r.stdout) as { run: string; step: number; layers: { layer: string; specialisation: { labels: string[] } }[] };
  assert.equal(a.run, runId);
  assert.equal(a.step, Math.max(...readdirSync(join(runsDir, runId, 'checkpoints')).map((d) => Number(d.replace('step-', '')))));
  for (const l of a.layers) assert.deepEqual(l.specialisation.labels, ['word', 'number', 'punctuation', 'whitespace', 'identifier'], `${l.layer}: no tags in a user corpus`);
  assertFails(cli(['analyze', '--run', runId, '--checkpoint', '999', '--runs', runsDir, '--backend', backend], runCwd), [/^switchyard: --checkpoint 999: run .* keeps checkpoints at steps \d/]);
  failsCleanly(['analyze'], [/^switchyard: --run is required/, /usage: switchyard/]);
});
