// The one definition of every message between the engine and its clients (the extension, tests,
// scripts). Types are derived from the zod schemas, and each end validates what it receives.
//
// Connection: the engine prints one handshake line (JSON) on stdout, then speaks only WebSocket on
// 127.0.0.1. A client presents the token in the `x-switchyard-token` header or in its first
// message, `hello`, which also carries its protocol version. Requests carry an id and get exactly
// one `response` or `error`; events are pushed.
import { analysisSchema } from './analysis/analysisSchema';
import { experimentSummarySchema } from './experiments/experimentSchema';
import { MAX_SEEDS } from './experiments/grid';
import { z } from 'zod';
import { meshConfigSchema } from './mesh/meshConfig';
import { stepRecordSchema, validationRecordSchema } from './train/runFormat';
import { runIdSchema, runStatusSchema } from './train/runStatus';

export const PROTOCOL_VERSION = 1;
/** Largest message the engine reads, bytes: a larger one gets a `too_large` error. */
export const MAX_FRAME_BYTES = 1 << 20;
/** Largest frame the engine takes off the socket at all; a larger one closes that connection (1009). */
export const HARD_FRAME_BYTES = 16 * MAX_FRAME_BYTES;
export const TOKEN_HEADER = 'x-switchyard-token';
/** Longest text `infer` takes, characters. */
export const MAX_INFER_CHARS = 20_000;

const runId = runIdSchema;
const count = z.number().int().min(0);

export const backendInfoSchema = z.object({
  name: z.enum(['tensorflow', 'wasm', 'cpu']),
  fallbacks: z.array(z.string()),
  simd: z.boolean().optional(),
  /** The wasm backend's threads (SWITCHYARD_WASM_THREADS). */
  threads: z.number().int().min(1).optional(),
});

export const handshakeSchema = z.object({
  switchyard: z.literal('engine'),
  port: z.number().int().min(1).max(65535),
  token: z.string().min(16),
  version: z.string(),
  protocolVersion: z.number().int(),
  backend: backendInfoSchema,
  pid: z.number().int(),
});
export type Handshake = z.infer<typeof handshakeSchema>;

export { runStateSchema, runStatusSchema, type RunStatus } from './train/runStatus';

export const runSummarySchema = z.object({
  id: runId,
  preset: z.string(),
  router: z.string(),
  numExperts: count,
  /** From status.json; a run that never wrote one (crashed at start) has none. */
  status: runStatusSchema.optional(),
  /** The last training step record's cross-entropy, if any. */
  crossEntropy: z.number().optional(),
  /** The last step record's total loss, if any (all an external producer may log). */
  loss: z.number().optional(),
  /** Sparse layers, in order: encoder then decoder. */
  layers: z.array(z.string()),
  active: z.boolean(),
  /** An imported model's source folder (its preset is 'imported'). */
  importedFrom: z.string().optional(),
  /** An external run (written by another program, read-only): its folder's path. */
  external: z.string().optional(),
});
export type RunSummary = z.infer<typeof runSummarySchema>;

export const tokenRoutingSchema = z.object({
  expert: z.number().int(),
  prob: z.number(),
  dropped: z.boolean(),
  entropy: z.number(),
});
export const inferenceResultSchema = z.object({
  runId,
  step: count,
  tokens: z.array(z.object({ id: count, text: z.string(), start: count, end: count })),
  layers: z.array(z.object({ layer: z.string(), numExperts: count, capacity: count, tokens: z.array(tokenRoutingSchema) })),
  /** One per sentinel of the input, in its order; `text` null where the model wrote no fill. */
  fills: z.array(z.object({ sentinel: count, text: z.string().nullable() })),
  output: z.string(),
});
export type InferenceResult = z.infer<typeof inferenceResultSchema>;
export type TokenRouting = z.infer<typeof tokenRoutingSchema>;

/**
 * A step record as streamed: the run format's, so that any producer's record goes through (only step
 * and per-layer routed counts are sure; the engine's own runs fill everything), plus the mesh simulated from its routing.
 */
export const stepEventDataSchema = stepRecordSchema;
export type StepEventData = z.infer<typeof stepEventDataSchema>;
/** A validation record as streamed (the run format's: only step is sure). */
export const validationEventDataSchema = validationRecordSchema;
export type ValidationEventData = z.infer<typeof validationEventDataSchema>;

// ---- Requests: one params schema and one result schema per method.

const experimentId = z.string().regex(/^[\w.-]+$/, 'an experiment id: letters, digits, _ . -').max(200);
/** Runs trained side by side, each in a worker thread on one wasm thread (default 1: one after the other). */
const parallelRuns = z.number().int().min(1).max(8);
/** A grid to run: a built-in grid's name, or `entries` (a grid file's content) under a name. */
const experimentParams = z
  .object({
    name: z.string().min(1).max(200),
    entries: z.array(z.unknown()).optional(),
    preset: z.string().optional(),
    /** The base config every run starts from, as a `--config` file: { model, training }. */
    config: z.record(z.string(), z.unknown()).optional(),
    /** One of steps or minutes per run; neither: the preset's steps. */
    steps: z.number().int().positive().optional(),
    minutes: z.number().positive().optional(),
    corpus: z.string().min(1).optional(),
    parallel: parallelRuns.optional(),
    /** Each entry runs with this many seeds, from the base config's on (default 1). */
    seeds: z.number().int().min(1).max(MAX_SEEDS).optional(),
  })
  .strict()
  .refine((p) => p.steps === undefined || p.minutes === undefined, { message: 'give steps or minutes, not both' });
export const experimentPlanSchema = z.object({
  /** In the order they will train: with several seeds, every entry with the first seed, then the next. */
  runs: z.array(z.object({ name: z.string(), entry: z.string(), seed: count, router: z.string(), numExperts: count })),
  /** Estimated seconds for the whole experiment; null when nothing here measures it. */
  seconds: z.number().nullable(),
  basis: z.string(),
});
export type ExperimentPlan = z.infer<typeof experimentPlanSchema>;

const empty = z.object({}).strict();
const folderPath = z.string().min(1).max(4096);
const runRef = z.object({ runId: runId.optional() }).strict();

export const methods = {
  status: {
    params: empty,
    result: z.object({ version: z.string(), protocolVersion: z.number(), backend: backendInfoSchema, runsDir: z.string(), activeRun: runStatusSchema.nullable() }),
  },
  listRuns: { params: empty, result: z.object({ runs: z.array(runSummarySchema) }) },
  startTraining: {
    params: z
      .object({
        preset: z.string().optional(),
        /** Any part of a run config: { model, training, corpus }. */
        config: z.record(z.string(), z.unknown()).optional(),
        /** 'brown', or a folder, file or glob of text files. */
        corpus: z.string().min(1).optional(),
        steps: z.number().int().positive().optional(),
        mesh: meshConfigSchema.optional(),
      })
      .strict(),
    result: runSummarySchema,
  },
  pause: { params: runRef, result: runStatusSchema },
  resume: { params: runRef, result: runStatusSchema },
  stop: { params: runRef, result: runStatusSchema },
  saveCheckpoint: { params: runRef, result: z.object({ runId, step: count, path: z.string() }) },
  /** Continues training a stopped run from its newest checkpoint. */
  resumeRun: { params: z.object({ runId, steps: z.number().int().positive().optional() }).strict(), result: runSummarySchema },
  /** Loads a run's newest checkpoint for inference. */
  loadRun: { params: z.object({ runId }).strict(), result: runSummarySchema },
  infer: {
    params: z
      /** maxTokens 0: the routing only (no decoding, no fills): an imported model's decoder stays unloaded. */
      .object({ runId: runId.optional(), text: z.string().max(MAX_INFER_CHARS), maxTokens: z.number().int().min(0).max(128).optional() })
      .strict(),
    result: inferenceResultSchema,
  },
  /** A run's routing explained at a checkpoint (its newest when none is named): engine/analysis. */
  analyzeRun: { params: z.object({ runId, checkpoint: count.optional() }).strict(), result: analysisSchema },
  getMetrics: {
    params: z
      .object({ runId, fromStep: count.optional(), toStep: count.optional(), maxPoints: z.number().int().min(2).max(100_000).optional() })
      .strict(),
    result: z.object({
      runId,
      /** Records in the range, evenly thinned to at most maxPoints step records (validations all kept); step records carry the mesh simulated with the current mesh settings. */
      records: z.array(z.union([stepEventDataSchema, validationEventDataSchema])),
      /** Step records in the range before thinning. */
      totalSteps: count,
      warnings: z.array(z.string()),
    }),
  },
  deleteRun: { params: z.object({ runId }).strict(), result: z.object({ runId }) },
  /** A Hugging Face model folder (on the engine's machine) as an inference-only run; `progress` events while it reads. */
  importHf: {
    params: z.object({ folder: folderPath, name: z.string().max(100).optional() }).strict(),
    result: z.object({ run: runSummarySchema, source: z.string(), file: z.string(), parameters: count }),
  },
  /** A run as a Hugging Face model folder (an empty or new folder on the engine's machine); `progress` events while it writes. */
  exportHf: {
    params: z.object({ runId, folder: folderPath }).strict(),
    result: z.object({ runId, folder: z.string(), step: count, parameters: count }),
  },
  /** Follows exactly these folders (each a run folder or a folder of runs) as external, read-only runs. */
  watchRunFolders: {
    params: z.object({ folders: z.array(z.string().min(1).max(4096)).max(100) }).strict(),
    result: z.object({ runs: z.array(runSummarySchema), warnings: z.array(z.string()) }),
  },
  /** Experiments in the runs folder (runs/experiments/<id>/experiment.json), oldest first. */
  listExperiments: { params: empty, result: z.object({ experiments: z.array(experimentSummarySchema) }) },
  /** Resolves the grid (every bad field named) and estimates its time, without starting anything. */
  planExperiment: { params: experimentParams, result: experimentPlanSchema },
  /** Starts the grid's runs, one after the other or `parallel` at a time; `experiment` events follow its progress. */
  startExperiment: { params: experimentParams, result: experimentSummarySchema },
  /**
   * Carries on an interrupted experiment: finished runs kept, the interrupted ones resumed, as many at a
   * time as before unless `parallel` is given. With `steps`, a finished one too: its runs train on.
   */
  resumeExperiment: {
    params: z
      .object({
        id: experimentId,
        parallel: parallelRuns.optional(),
        /** Trains every run of a step-budgeted experiment on to this many steps, the finished ones from their last checkpoint. */
        steps: z.number().int().positive().optional(),
      })
      .strict(),
    result: experimentSummarySchema,
  },
  /** Stops the running experiment after the current step, with a checkpoint; resolves once it has stopped. */
  stopExperiment: { params: z.object({ id: experimentId.optional() }).strict(), result: experimentSummarySchema },
  /** A dense student of a Switch run, from its non-expert weights (engine/train/distill.ts). */
  distill: { params: z.object({ teacher: runId, steps: z.number().int().positive().optional() }).strict(), result: runSummarySchema },
  /** A run continued on another corpus, with the paper's fine-tuning dropout unless given. */
  finetune: {
    params: z
      .object({
        from: runId,
        /** 'brown', or a folder, file or glob of text files. */
        corpus: z.string().min(1),
        steps: z.number().int().positive().optional(),
        expertDropoutRate: z.number().min(0).lt(1).optional(),
        dropoutRate: z.number().min(0).lt(1).optional(),
      })
      .strict(),
    result: runSummarySchema,
  },
  getMeshConfig: { params: empty, result: meshConfigSchema },
  setMeshConfig: { params: z.object({ mesh: meshConfigSchema }).strict(), result: meshConfigSchema },
} as const;

export type Method = keyof typeof methods;
export type Params<M extends Method> = z.infer<(typeof methods)[M]['params']>;
export type Result<M extends Method> = z.infer<(typeof methods)[M]['result']>;
export const METHOD_NAMES = Object.keys(methods) as Method[];

const requestId = z.union([z.number().int(), z.string().max(100)]);

export const helloSchema = z.object({ type: z.literal('hello'), token: z.string().max(200), protocolVersion: z.number().int() }).strict();
export const requestEnvelopeSchema = z.object({ type: z.literal('request'), id: requestId, method: z.string().max(100), params: z.unknown().optional() }).strict();
export type RequestEnvelope = z.infer<typeof requestEnvelopeSchema>;

export const ERROR_CODES = ['bad_json', 'bad_request', 'unknown_method', 'too_large', 'unauthorized', 'version_mismatch', 'not_found', 'conflict', 'failed'] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];
const errorBody = z.object({ code: z.enum(ERROR_CODES), message: z.string() });

export const welcomeSchema = z.object({ type: z.literal('welcome'), version: z.string(), protocolVersion: z.number().int(), backend: backendInfoSchema });
export const responseSchema = z.object({ type: z.literal('response'), id: requestId, result: z.unknown() });
export const errorSchema = z.object({ type: z.literal('error'), id: requestId.nullable(), error: errorBody });

export const eventSchema = z.discriminatedUnion('event', [
  /** `coalesced`: step events this client did not get because they came faster than it reads. */
  z.object({ type: z.literal('event'), event: z.literal('step'), runId, data: stepEventDataSchema, coalesced: count }),
  z.object({ type: z.literal('event'), event: z.literal('validation'), runId, data: validationEventDataSchema }),
  z.object({ type: z.literal('event'), event: z.literal('state'), runId, data: runStatusSchema }),
  z.object({ type: z.literal('event'), event: z.literal('log'), level: z.enum(['info', 'warn', 'error']), message: z.string() }),
  /** A long importHf / exportHf: `done` of `total` steps (tensors, then the file's write) for `folder`. */
  z.object({ type: z.literal('event'), event: z.literal('progress'), task: z.enum(['importHf', 'exportHf']), folder: z.string(), done: count, total: count, message: z.string() }),
  /** An experiment's record changed: a run started or ended, or the experiment did. */
  z.object({ type: z.literal('event'), event: z.literal('experiment'), data: experimentSummarySchema }),
]);
export type EngineEvent = z.infer<typeof eventSchema>;
/** The events about one run (step, validation, state): those that carry a runId. */
export type RunEvent = Extract<EngineEvent, { runId: string }>;

/** `e` when it is about a run, else undefined: one guard for every consumer of run events. */
export function runEvent(e: EngineEvent): RunEvent | undefined {
  return 'runId' in e ? e : undefined;
}

/** Everything the engine sends after the handshake line. */
export const serverMessageSchema = z.union([welcomeSchema, responseSchema, errorSchema, eventSchema]);
export type ServerMessage = z.infer<typeof serverMessageSchema>;

export class ProtocolError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ProtocolError';
  }
}

/** One line naming what a schema refused: `field: why; field: why`. */
export function describeIssues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
}

/** Validates a method's params; throws ProtocolError('bad_request') naming every bad field. */
export function parseParams<M extends Method>(method: M, params: unknown): Params<M> {
  const r = methods[method].params.safeParse(params ?? {});
  if (!r.success) throw new ProtocolError('bad_request', `${method}: ${describeIssues(r.error)}`);
  return r.data as Params<M>;
}

/** Validates a method's result, on the client side. */
export function parseResult<M extends Method>(method: M, result: unknown): Result<M> {
  const r = methods[method].result.safeParse(result);
  if (!r.success) throw new ProtocolError('bad_request', `${method} result: ${describeIssues(r.error)}`);
  return r.data as Result<M>;
}

export function isMethod(name: string): name is Method {
  return Object.hasOwn(methods, name);
}

// ---- Extension <-> webview messages (postMessage). Both sides validate what they receive.

/** Extension -> dashboard panel. */
export const dashboardInboundSchema = z.discriminatedUnion('type', [
  /** Everything the dashboard draws for a run so far; sent on open, on reload and on a run switch. */
  z.object({
    type: z.literal('init'),
    run: runSummarySchema,
    history: z.array(z.union([stepEventDataSchema, validationEventDataSchema])),
    /** History thinned from this many step records. */
    totalSteps: count,
  }),
  z.object({ type: z.literal('step'), runId, data: stepEventDataSchema }),
  z.object({ type: z.literal('validation'), runId, data: validationEventDataSchema }),
  z.object({ type: z.literal('state'), runId, data: runStatusSchema }),
  z.object({ type: z.literal('empty'), message: z.string() }),
  /** The run's routing explained (the engine's analyzeRun), for the Specialisation section. */
  z.object({ type: z.literal('analysis'), runId, analysis: analysisSchema }),
  z.object({ type: z.literal('analysisError'), runId, message: z.string() }),
]);
export type DashboardInbound = z.infer<typeof dashboardInboundSchema>;

/** Dashboard panel -> extension. */
export const dashboardOutboundSchema = z.discriminatedUnion('type', [
  /** Loaded (or reloaded): send `init`. */
  z.object({ type: z.literal('ready'), runId: runId.optional() }),
  z.object({ type: z.literal('command'), command: z.enum(['pause', 'resume', 'stop']) }),
  /** Analyze the run at its newest checkpoint: answered by `analysis` or `analysisError`. */
  z.object({ type: z.literal('analyze'), runId }),
]);
export type DashboardOutbound = z.infer<typeof dashboardOutboundSchema>;

/** What an expert usually takes, in words, from its run's analysis (extension/runs/specialisationText.ts). */
export const expertNoteSchema = z.object({
  layer: z.string(),
  expert: count,
  /** Dominant label with its share and top tokens: "NOUN 54% · “ the” · “ of”". */
  description: z.string(),
  /** The rest, a line each: token count, every label's share, top tokens by count and by lift. */
  details: z.array(z.string()),
});
export type ExpertNote = z.infer<typeof expertNoteSchema>;

/** Extension -> routing side panel. */
export const routingInboundSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('routing'), result: inferenceResultSchema, layer: count }),
  z.object({ type: z.literal('empty'), message: z.string() }),
  /** What the experts of the shown result's run usually take (its analysis), or why that is not known. */
  z.object({ type: z.literal('experts'), runId, notes: z.array(expertNoteSchema).optional(), why: z.string().optional() }),
]);
export type RoutingInbound = z.infer<typeof routingInboundSchema>;

/** Routing side panel -> extension. */
export const routingOutboundSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ready') }),
  /** The user chose another sparse layer to color by. */
  z.object({ type: z.literal('selectLayer'), layer: count }),
  /** Reveal token `index` in the editor. */
  z.object({ type: z.literal('revealToken'), index: count }),
]);
export type RoutingOutbound = z.infer<typeof routingOutboundSchema>;

const resultsTableSchema = z.object({ columns: z.array(z.string()), rows: z.array(z.array(z.string())) });

/** Which runs a Compare view shows: an experiment's runs, or two or more runs picked in the Runs view. */
export const compareSelectionSchema = z.union([
  z.object({ experimentId: z.string().regex(/^[\w.-]+$/).max(200) }).strict(),
  z.object({ runIds: z.array(runId).min(2).max(64) }).strict(),
]);
export type CompareSelection = z.infer<typeof compareSelectionSchema>;

/** A Compare view's chart: the overlaid curves, or one run's load heatmap (`heatmap-<run index>`). */
export const compareChartIdSchema = z.string().regex(/^(loss-step|loss-time|overflow|entropy|loadcv|heatmap-\d{1,2})$/, 'a Compare chart id');
const pngDataUrl = z.string().startsWith('data:image/png;base64,').max(64 << 20);

/** Extension -> Compare panel. */
export const compareInboundSchema = z.discriminatedUnion('type', [
  /** Everything the view draws; sent on open, on reload and when the selection changes. */
  z.object({
    type: z.literal('init'),
    selection: compareSelectionSchema,
    title: z.string(),
    runs: z.array(
      z.object({
        /** The grid entry's name, or the run id. */
        name: z.string(),
        /** An experiment with several seeds per entry: the run's entry and seed (the view colours by entry). */
        entry: z.string().optional(),
        seed: count.optional(),
        run: runSummarySchema,
        /** Step records thinned evenly by the engine, and every validation. */
        history: z.array(z.union([stepEventDataSchema, validationEventDataSchema])),
        totalSteps: count,
        /** [step, training seconds] for each step of `history`: the clock of the results' equal-time column. */
        clock: z.array(z.tuple([count, z.number().min(0)])),
      }),
    ),
    /** The results table (engine/experiments/results.ts's resultsTable), one row per run. */
    table: resultsTableSchema,
    /** An experiment with several seeds per entry: each entry over its seeds (results.ts's entriesTable). */
    entries: resultsTableSchema.optional(),
    /** Two or more entries (or runs): the gap to the first over the quarters of training (results.ts's overTrainingTable). */
    overTraining: resultsTableSchema.optional(),
  }),
  z.object({ type: z.literal('empty'), message: z.string() }),
  /** Send chart `chart` as a PNG, answering with this `requestId`. */
  z.object({ type: z.literal('requestPng'), chart: compareChartIdSchema, requestId: count }),
]);
export type CompareInbound = z.infer<typeof compareInboundSchema>;

/** Compare panel -> extension. */
export const compareOutboundSchema = z.discriminatedUnion('type', [
  /** Loaded (or reloaded): send `init` for this selection (the panel's own when absent). */
  z.object({ type: z.literal('ready'), selection: compareSelectionSchema.optional() }),
  /** A chart as a PNG: the user's Export PNG (no requestId: a save dialog), or the answer to `requestPng`. */
  z.object({ type: z.literal('png'), chart: compareChartIdSchema, dataUrl: pngDataUrl, requestId: count.optional() }),
  z.object({ type: z.literal('pngError'), chart: z.string().max(100), requestId: count, message: z.string().max(1000) }),
  /** The user's Export Markdown: the results table through a save dialog. */
  z.object({ type: z.literal('exportMarkdown') }),
]);
export type CompareOutbound = z.infer<typeof compareOutboundSchema>;
