// What the engine does for its clients, one method per protocol request: it owns the runs folder,
// at most one training run at a time, the models loaded for inference, and the mesh settings, and
// it reports everything that happens as protocol events.
import { EventEmitter } from 'node:events';
import { existsSync, rmSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { exportHfModel } from '../formats/hf/exportRun';
import { importHfModel } from '../formats/hf/importRun';
import type { ProgressFn } from '../formats/hf/tensors';
import { analyzeRun } from '../analysis/analyzeRun';
import type { BackendInfo } from '../backend';
import { infer } from '../infer';
import { DEFAULT_MESH_CONFIG, parseMeshConfig, type MeshConfig } from '../mesh/meshConfig';
import { simulateMeshStep, type MeshInput } from '../mesh/meshModel';
import { ProtocolError, PROTOCOL_VERSION, runStatusSchema, type EngineEvent, type Params, type Result, type RunStatus, type RunSummary, type StepEventData } from '../protocol';
import { externalRunConfigSchema, runRecordSchema, type LayerRecord, type RunRecord } from '../train/runFormat';
import { withDerived } from '../runFolders/derived';
import { parseRunConfig, resolveRunConfig, type CorpusSpec } from '../train/runConfig';
import { loadRunModel, type RunModel } from '../train/runModel';
import { listCheckpoints } from '../train/checkpoint';
import { lastStepRecord, listRuns, openRun, readMetrics, RunDir, RunNotFoundError } from '../train/runStore';
import { Trainer } from '../train/trainer';
import { sparseLayerNames } from '../model/block';
import { version } from '../../package.json';
import { ExternalRuns } from '../runFolders/externalRuns';
import { engineModel, externalSummary } from '../runFolders/externalSummary';
import { ExperimentService, type FollowedRun } from './experimentService';
import { followTrainer } from '../experiments/gridRun';

/** Emits `event` for every protocol event that all clients should get. */
export class EngineService extends EventEmitter<{ event: [EngineEvent] }> {
  private trainer: Trainer | null = null;
  /** An experiment's runs training side by side in worker threads, with their latest status. */
  private readonly inWorkers = new Map<string, RunStatus>();
  private training: Promise<unknown> | null = null;
  /** Models loaded for inference, newest last; a couple at most (each holds its weights). */
  private readonly loaded = new Map<string, RunModel>();
  private mesh: MeshConfig = DEFAULT_MESH_CONFIG;
  /** The run trained or loaded last: what `infer` uses when it names none. */
  private lastRun: string | null = null;
  private readonly analyses = new Map<string, Result<'analyzeRun'>>();
  /** Run folders written by other programs, followed live. */
  readonly external = new ExternalRuns();
  /** Experiments, distillation and fine-tuning: they train in this service's one slot. */
  readonly experiments: ExperimentService;

  constructor(
    readonly runsDir: string,
    readonly backend: BackendInfo,
  ) {
    super();
    this.experiments = new ExperimentService({
      runsDir: this.runsDir,
      backend: this.backend,
      requireIdle: () => this.requireIdle(),
      run: (runId) => this.run(runId),
      launch: (trainer) => this.launch(trainer, this.mesh),
      follow: (run) => this.follow(run, this.mesh),
      occupy: (work, done) => {
        this.training = work.finally(() => {
          this.trainer = null;
          this.inWorkers.clear(); // a worker that died said nothing more
          done();
        });
      },
      settled: async () => this.training,
      send: (event) => this.send(event),
    });
    this.external.on('record', (runId, r) => {
      if (r.type === 'validation') return this.send({ type: 'event', event: 'validation', runId, data: r });
      const model = engineModel(this.run(runId).path);
      this.send({ type: 'event', event: 'step', runId, data: model ? this.withMesh(r, model, this.mesh) : r, coalesced: 0 });
    });
    this.external.on('status', (runId) => {
      const ext = this.external.get(runId);
      const status = ext && externalSummary(ext).status;
      if (status) this.send({ type: 'event', event: 'state', runId, data: status });
    });
    this.external.on('warning', (message) => this.send({ type: 'event', event: 'log', level: 'warn', message }));
  }

  private send(event: EngineEvent): void {
    this.emit('event', event);
  }

  status(): Result<'status'> {
    const activeRun = this.trainer?.runStatus() ?? this.inWorkers.values().next().value ?? null;
    return { version, protocolVersion: PROTOCOL_VERSION, backend: this.backend, runsDir: this.runsDir, activeRun };
  }

  listRuns(): Result<'listRuns'> {
    return { runs: [...listRuns(this.runsDir).flatMap((id) => this.summaryOrNothing(id)), ...this.external.list().map(externalSummary)] };
  }

  watchRunFolders(p: Params<'watchRunFolders'>): Result<'watchRunFolders'> {
    const warnings = this.external.setFolders(p.folders);
    for (const message of warnings) this.send({ type: 'event', event: 'log', level: 'warn', message });
    return { runs: this.external.list().map(externalSummary), warnings };
  }

  async startTraining(p: Params<'startTraining'>): Promise<Result<'startTraining'>> {
    this.requireIdle();
    const corpus: CorpusSpec | undefined = p.corpus === undefined ? undefined : p.corpus === 'brown' ? { kind: 'brown' } : { kind: 'files', spec: p.corpus };
    const config = resolveRunConfig({ preset: p.preset, overrides: p.config, corpus, steps: p.steps });
    const mesh = p.mesh ? parseMeshConfig(p.mesh, config.model.numExperts) : this.mesh;
    return this.launch(await Trainer.create(this.runsDir, config, this.backend.name), mesh);
  }

  async resumeRun(p: Params<'resumeRun'>): Promise<Result<'resumeRun'>> {
    this.requireIdle();
    this.writable(p.runId);
    this.run(p.runId); // an unknown run is not_found, not a failure
    return this.launch(await Trainer.open(this.runsDir, p.runId, this.backend.name, p.steps), this.mesh);
  }

  pause(p: Params<'pause'>): Result<'pause'> {
    const t = this.activeTrainer(p.runId);
    t.pause();
    return t.runStatus();
  }

  resume(p: Params<'resume'>): Result<'resume'> {
    const t = this.activeTrainer(p.runId);
    t.resume();
    return t.runStatus();
  }

  /** Stops after the current step; resolves once the final checkpoint is written. */
  async stop(p: Params<'stop'>): Promise<Result<'stop'>> {
    const inWorker = this.workerRunToStop(p.runId);
    const t = inWorker ? null : this.activeTrainer(p.runId);
    // Stopping an experiment's run stops the experiment (resumable), not just that run.
    if (this.experiments.current) this.experiments.current.stop();
    else t?.stop();
    await this.training;
    return t ? t.runStatus() : this.storedStatus(inWorker!);
  }

  saveCheckpoint(p: Params<'saveCheckpoint'>): Result<'saveCheckpoint'> {
    const t = this.activeTrainer(p.runId);
    return { runId: t.run.id, step: t.step, path: t.checkpoint() };
  }

  loadRun(p: Params<'loadRun'>): Result<'loadRun'> {
    this.model(p.runId);
    this.lastRun = p.runId;
    return this.summary(p.runId);
  }

  /** Runs on the engine's thread between training steps; kept per run and checkpoint. */
  async analyzeRun(p: Params<'analyzeRun'>): Promise<Result<'analyzeRun'>> {
    const run = this.run(p.runId);
    const key = `${p.runId}@${p.checkpoint ?? 'newest'}@${listCheckpoints(run.checkpoints).join(',')}`;
    let analysis = this.analyses.get(key);
    if (!analysis) {
      try {
        analysis = await analyzeRun(run, p.checkpoint);
      } catch (err) {
        throw new ProtocolError('bad_request', `analyzeRun: ${(err as Error).message}`);
      }
      this.analyses.set(key, analysis);
      while (this.analyses.size > 4) this.analyses.delete(this.analyses.keys().next().value as string);
    }
    return analysis;
  }

  infer(p: Params<'infer'>): Result<'infer'> {
    const runId = p.runId ?? this.trainer?.run.id ?? this.lastRun;
    if (!runId) throw new ProtocolError('bad_request', 'infer: no runId given, and no run was trained or loaded');
    if (!p.text.trim()) throw new ProtocolError('bad_request', 'infer: the text is empty');
    // The active run infers with its live weights; any other run with its newest checkpoint.
    const live = this.trainer?.run.id === runId ? this.trainer : null;
    const { model, tokenizer, step } = live ? { model: live.model, tokenizer: live.dataset.tokenizer, step: live.step } : this.model(runId);
    try {
      return { runId, step, ...infer(model, tokenizer, p.text, p.maxTokens) };
    } catch (err) {
      throw new ProtocolError('bad_request', `infer: ${(err as Error).message}`);
    }
  }

  getMetrics(p: Params<'getMetrics'>): Result<'getMetrics'> {
    const run = this.run(p.runId);
    // A run another program wrote (followed, or imported into the runs folder): its records are the
    // run format's (any producer's), with what their counts imply filled in.
    const external = this.external.get(p.runId) !== undefined || isForeignRun(run);
    const { records, warnings } = external ? readMetrics(run.metricsFile, runRecordSchema) : readMetrics(run.metricsFile);
    const from = p.fromStep ?? 0;
    const to = p.toStep ?? Infinity;
    const inRange = records.filter((r) => r.step >= from && r.step <= to);
    const steps = inRange.filter((r) => r.type === 'step');
    const max = p.maxPoints ?? 2000;
    // Thin step records evenly, always keeping the last; validation records are few and all kept.
    const stride = Math.max(1, Math.ceil((steps.length - 1) / (max - 1)));
    const keep = new Set(steps.filter((_, i) => i % stride === 0 || i === steps.length - 1));
    // An external run's config.json may not be the engine's: its steps then go without a mesh.
    const model = external ? engineModel(run.path) : parseRunConfig(run.readJson('config.json')).model;
    const complete = (r: RunRecord) => (r.type === 'step' && model ? this.withMesh(r, model, this.mesh) : r);
    const kept = inRange.filter((r) => r.type !== 'step' || keep.has(r));
    return { runId: run.id, records: (external ? kept.map(withDerived) : kept).map(complete), totalSteps: steps.length, warnings };
  }

  deleteRun(p: Params<'deleteRun'>): Result<'deleteRun'> {
    if (this.trainer?.run.id === p.runId || this.inWorkers.has(p.runId)) throw new ProtocolError('conflict', `run ${p.runId} is training: stop it first`);
    this.writable(p.runId);
    const run = this.run(p.runId);
    this.unload(p.runId);
    rmSync(run.path, { recursive: true, force: true });
    return { runId: p.runId };
  }

  /** Reads the model whole before making the run: a bad folder is one error and no run. */
  async importHf(p: Params<'importHf'>): Promise<Result<'importHf'>> {
    const folder = resolve(p.folder);
    const progress = this.progress('importHf', folder);
    try {
      const { run, file, parameters } = await importHfModel(folder, this.runsDir, p.name, progress);
      progress(1, 1, `imported ${run.id}`);
      this.lastRun = run.id; // Run on Selection without a run named uses the model just opened
      return { run: this.summary(run.id), source: folder, file, parameters };
    } catch (err) {
      throw new ProtocolError('bad_request', `importHf: ${(err as Error).message}`);
    }
  }

  async exportHf(p: Params<'exportHf'>): Promise<Result<'exportHf'>> {
    const run = this.run(p.runId);
    const folder = resolve(p.folder);
    const progress = this.progress('exportHf', folder);
    try {
      const { step, parameters } = await exportHfModel(run, folder, progress);
      progress(1, 1, `exported ${run.id}`);
      return { runId: run.id, folder, step, parameters };
    } catch (err) {
      throw new ProtocolError('bad_request', `exportHf: ${(err as Error).message}`);
    }
  }

  private progress(task: 'importHf' | 'exportHf', folder: string): ProgressFn {
    return (done, total, message) => this.send({ type: 'event', event: 'progress', task, folder, done, total, message });
  }

  getMeshConfig(): Result<'getMeshConfig'> {
    return this.mesh;
  }

  setMeshConfig(p: Params<'setMeshConfig'>): Result<'setMeshConfig'> {
    this.mesh = parseMeshConfig(p.mesh, this.trainer?.config.model.numExperts);
    return this.mesh;
  }

  /** Stops any training with a final checkpoint (engine shutdown). */
  async shutdown(): Promise<void> {
    this.external.dispose();
    this.experiments.current?.stop();
    this.trainer?.stop();
    await this.training;
    for (const id of [...this.loaded.keys()]) this.unload(id);
  }

  private launch(trainer: Trainer, mesh: MeshConfig): RunSummary {
    const id = trainer.run.id;
    this.follow({ runId: id, events: followTrainer(trainer), model: trainer.config.model, trainer, step: trainer.step, steps: trainer.config.training.steps }, mesh);
    this.training = trainer
      .train()
      .catch((err: unknown) => {
        const message = `run ${id} failed: ${err instanceof Error ? err.message : String(err)}`;
        this.send({ type: 'event', event: 'log', level: 'error', message });
      })
      .finally(() => {
        trainer.dispose();
        if (this.trainer === trainer) this.trainer = null;
      });
    return this.summary(id);
  }

  /** Streams a run's events to clients; a Trainer in this thread becomes the active run. */
  private follow({ runId: id, events, model, trainer, step, steps }: FollowedRun, mesh: MeshConfig): void {
    if (trainer) this.trainer = trainer;
    // A run in a worker is live from its start, before its trainer's first status arrives.
    else this.inWorkers.set(id, { id, state: 'running', step, steps, backend: this.backend.name, updatedAt: new Date().toISOString() });
    this.lastRun = id;
    events.on('metrics', (m) => this.send({ type: 'event', event: 'step', runId: id, data: this.withMesh(m, model, mesh), coalesced: 0 }));
    events.on('validation', (v) => this.send({ type: 'event', event: 'validation', runId: id, data: v }));
    events.on('state', (s) => {
      // A worker's run is live while it says it trains; after, its status.json says how it ended.
      if (!trainer) {
        if (s.state === 'running' || s.state === 'paused') this.inWorkers.set(id, s);
        else this.inWorkers.delete(id);
      }
      this.send({ type: 'event', event: 'state', runId: id, data: s });
    });
    events.on('log', (line) => this.send({ type: 'event', event: 'log', level: 'warn', message: `${id}: ${line}` }));
  }

  /** The step with its simulated mesh; without one when the run has no sparse layer or its experts do not spread over the mesh. */
  private withMesh(m: StepEventData, model: { dModel: number; dFf: number; numExperts: number }, mesh: MeshConfig): StepEventData {
    const data = mesh.shape.data;
    const fits = model.numExperts % data === 0 || data % model.numExperts === 0;
    const layers = m.layers.filter((l): l is LayerRecord & MeshInput => l.capacity !== undefined && l.kept !== undefined);
    return m.layers.length && layers.length === m.layers.length && fits ? { ...m, mesh: simulateMeshStep(layers, model, mesh) } : m;
  }

  private requireIdle(): void {
    const experiment = this.experiments.current;
    if (experiment) throw new ProtocolError('conflict', `experiment ${experiment.id} is running: stop it before starting another run`);
    if (this.trainer) throw new ProtocolError('conflict', `run ${this.trainer.run.id} is training: stop it before starting another`);
  }

  /** The run in a worker thread that a stop means: the one named, or the first when none is named and none trains in this thread. */
  private workerRunToStop(runId: string | undefined): string | undefined {
    if (runId) return this.inWorkers.has(runId) ? runId : undefined;
    return this.trainer ? undefined : this.inWorkers.keys().next().value;
  }

  private activeTrainer(runId: string | undefined): Trainer {
    if (runId && this.inWorkers.has(runId)) {
      throw new ProtocolError('conflict', `run ${runId} trains in a worker thread, beside another run of its experiment: stop the experiment (each run keeps a checkpoint) and resume it one run at a time to pause or checkpoint by hand`);
    }
    if (!this.trainer) throw new ProtocolError('conflict', 'no run is training');
    if (runId && runId !== this.trainer.run.id) throw new ProtocolError('conflict', `run ${runId} is not the one training (${this.trainer.run.id})`);
    return this.trainer;
  }

  /** A run's status as its status.json says (a run that trained in a worker, after it stopped). */
  private storedStatus(runId: string): RunStatus {
    const status = runStatusSchema.safeParse(this.run(runId).readJson('status.json')).data;
    if (!status) throw new ProtocolError('not_found', `run ${runId} has no readable status.json`);
    return status;
  }

  /** External runs are read-only: another program writes them. */
  private writable(runId: string): void {
    const ext = this.external.get(runId);
    if (ext) throw new ProtocolError('conflict', `run ${runId} is external (${ext.path}) and read-only`);
  }

  private run(runId: string): RunDir {
    const ext = this.external.get(runId);
    if (ext) return new RunDir(dirname(ext.path), basename(ext.path));
    try {
      return openRun(this.runsDir, runId);
    } catch (err) {
      if (err instanceof RunNotFoundError) throw new ProtocolError('not_found', err.message);
      throw err;
    }
  }

  private model(runId: string): RunModel {
    const cached = this.loaded.get(runId);
    if (cached) return cached;
    const m = loadRunModel(this.run(runId));
    this.loaded.set(runId, m);
    while (this.loaded.size > 2) this.unload([...this.loaded.keys()][0]);
    return m;
  }

  private unload(runId: string): void {
    this.loaded.get(runId)?.model.dispose();
    this.loaded.delete(runId);
  }

  private summary(runId: string): RunSummary {
    const ext = this.external.get(runId);
    if (ext) return externalSummary(ext);
    const run = this.run(runId);
    // An import (switchyard import --from megatron|fairseq) in the runs folder: listed as the producer's run.
    if (isForeignRun(run)) return externalSummary({ id: runId, path: run.path });
    const config = parseRunConfig(run.readJson('config.json'));
    const c = config.model;
    const statusFile = `${run.path}/status.json`;
    const status = existsSync(statusFile) ? runStatusSchema.safeParse(run.readJson('status.json')).data : undefined;
    const live = this.trainer?.run.id === runId ? this.trainer.runStatus() : (this.inWorkers.get(runId) ?? (status && interrupted(status)));
    const lastStep = lastStepRecord(run.metricsFile);
    const layers = sparseLayerNames(c);
    return {
      id: runId,
      // The Runs tree shows this where a trained run shows its preset; status.json names the source.
      preset: config.imported ? 'imported' : config.preset,
      router: c.router,
      numExperts: c.numExperts,
      ...(live ? { status: live } : {}),
      ...(lastStep ? { crossEntropy: lastStep.crossEntropy } : {}),
      layers,
      active: this.trainer?.run.id === runId || this.inWorkers.has(runId),
      ...(config.imported ? { importedFrom: config.imported.source } : {}),
    };
  }

  /** A run folder that cannot be read (a crash before config.json was whole) is left out of lists. */
  private summaryOrNothing(id: string): RunSummary[] {
    try {
      return [this.summary(id)];
    } catch {
      return [];
    }
  }
}

/** A run folder whose config.json is another producer's (the probe's, an importer's), not the engine's. */
function isForeignRun(run: RunDir): boolean {
  try {
    return externalRunConfigSchema.safeParse(run.readJson('config.json')).success;
  } catch {
    return false; // no or unreadable config.json: not an import
  }
}
/** A run that says it trains but is not this engine's active run was cut off (a crash, a kill). */
function interrupted(status: RunStatus): RunStatus {
  if (status.state !== 'running' && status.state !== 'paused') return status;
  return { ...status, state: 'stopped', message: 'the engine stopped while this run trained: resume it from its last checkpoint' };
}
