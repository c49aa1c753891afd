// The model's configuration: HF SwitchTransformersConfig's fields in camelCase, validated with zod
// so that a bad config is refused with every bad field named and why.
import { z } from 'zod';

export const ROUTER_KINDS = ['switch', 'top2', 'ntlb', 'expertChoice', 'dense'] as const;
export type RouterKind = (typeof ROUTER_KINDS)[number];
/** How the router explores in training (paper, Table 11); eval always takes the argmax. */
export const ROUTER_EXPLORATIONS = ['argmax', 'sample', 'inputDropout', 'jitter'] as const;

const positiveInt = z.number().int().positive();
const rate = z.number().min(0).lt(1);

export const switchConfigSchema = z
  .object({
    vocabSize: positiveInt,
    dModel: positiveInt,
    /** Size of each attention head's key/value projection. */
    dKv: positiveInt,
    /** Hidden size of every feed-forward layer, dense or expert. */
    dFf: positiveInt,
    numLayers: positiveInt,
    numDecoderLayers: positiveInt,
    numHeads: positiveInt,
    /**
     * `switch`: top-1 routing; `top2`: Shazeer et al. MoE; `ntlb`: top-1 that re-routes overflow to
     * next choices; `expertChoice`: each expert takes its top-C tokens (Zhou et al. 2022), no balance
     * loss; `dense`: a T5 FFN of equal FLOPs per token.
     */
    router: z.enum(ROUTER_KINDS),
    /** ntlb: experts a token may try, its first choice included (unset: all). */
    ntlbMaxTries: positiveInt.optional(),
    /** `jitter` multiplies the router's input by noise of routerJitterNoise; `inputDropout` drops it at routerInputDropoutRate. */
    routerExploration: z.enum(ROUTER_EXPLORATIONS).default('jitter'),
    routerInputDropoutRate: rate.default(0.1),
    numExperts: positiveInt,
    /** Every `sparseStep`-th feed-forward layer is sparse (HF: layer i is sparse when i % step == 1). */
    encoderSparseStep: z.number().int().min(0),
    decoderSparseStep: z.number().int().min(0),
    capacityFactor: z.number().positive(),
    evalCapacityFactor: z.number().positive(),
    /** A fixed capacity per expert; overrides the capacity factors when set. */
    expertCapacity: positiveInt.optional(),
    routerJitterNoise: z.number().min(0).lt(1),
    routerZLossCoef: z.number().min(0),
    routerAuxLossCoef: z.number().min(0),
    /** `float32` is the paper's selective precision; `bfloat16` reproduces its unstable setting. */
    routerDtype: z.enum(['float32', 'bfloat16']),
    /** Precision the rest of the model emulates (the paper trains in bfloat16). */
    dtype: z.enum(['float32', 'bfloat16']),
    routerIgnorePaddingTokens: z.boolean(),
    relativeAttentionNumBuckets: positiveInt,
    relativeAttentionMaxDistance: positiveInt,
    dropoutRate: rate,
    expertDropoutRate: rate,
    layerNormEpsilon: z.number().positive(),
    /** Truncated-normal init, std = sqrt(initScale / fanIn); the paper uses 0.1 (Table 3). */
    initScale: z.number().positive(),
    /**
     * The router classifier's own init scale, std = sqrt(routerInitScale / dModel); unset: initScale
     * (the paper's). HF's _init_weights draws it with std = initializer_factor instead, far larger.
     */
    routerInitScale: z.number().positive().optional(),
    padTokenId: z.number().int().min(0),
    eosTokenId: z.number().int().min(0),
    decoderStartTokenId: z.number().int().min(0),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.router === 'top2' && c.numExperts < 2) {
      ctx.addIssue({ code: 'custom', path: ['numExperts'], message: 'top2 routing needs at least 2 experts' });
    }
    if (c.ntlbMaxTries !== undefined && c.router !== 'ntlb') {
      ctx.addIssue({ code: 'custom', path: ['ntlbMaxTries'], message: `only the ntlb router re-routes tokens (router is ${c.router})` });
    }
    if (c.ntlbMaxTries !== undefined && c.ntlbMaxTries > c.numExperts) {
      ctx.addIssue({ code: 'custom', path: ['ntlbMaxTries'], message: `must be at most numExperts (${c.numExperts})` });
    }
    if (c.router === 'expertChoice' && c.routerExploration === 'sample') {
      ctx.addIssue({ code: 'custom', path: ['routerExploration'], message: 'expertChoice: experts pick tokens, so there is no token choice to sample' });
    }
    for (const key of ['padTokenId', 'eosTokenId', 'decoderStartTokenId'] as const) {
      if (c[key] >= c.vocabSize) {
        ctx.addIssue({ code: 'custom', path: [key], message: `must be below vocabSize (${c.vocabSize})` });
      }
    }
  });

export type SwitchConfig = z.infer<typeof switchConfigSchema>;

const defaults: Omit<SwitchConfig, 'vocabSize' | 'dModel' | 'dKv' | 'dFf' | 'numLayers' | 'numDecoderLayers' | 'numHeads' | 'numExperts'> = {
  router: 'switch',
  routerExploration: 'jitter',
  routerInputDropoutRate: 0.1,
  encoderSparseStep: 2,
  decoderSparseStep: 2,
  capacityFactor: 1.25,
  evalCapacityFactor: 2.0,
  routerJitterNoise: 0.01,
  routerZLossCoef: 1e-3,
  routerAuxLossCoef: 1e-2,
  routerDtype: 'float32',
  dtype: 'float32',
  routerIgnorePaddingTokens: true,
  relativeAttentionNumBuckets: 32,
  relativeAttentionMaxDistance: 128,
  dropoutRate: 0.1,
  expertDropoutRate: 0.1,
  layerNormEpsilon: 1e-6,
  initScale: 0.1,
  padTokenId: 0,
  eosTokenId: 1,
  decoderStartTokenId: 0,
};

/**
 * tiny at half its width (and a 2048-word vocabulary), for the experiment grids: half the tokens a
 * step at about a quarter of the FLOPs a token, so the 5-run `experts` grid of 300 steps each fits
 * in about half an hour on two shared cores (README, Experiments). Router and losses: the paper's.
 */
const mini = { ...defaults, vocabSize: 2048, dModel: 64, dKv: 16, dFf: 256, numLayers: 2, numDecoderLayers: 2, numHeads: 4, numExperts: 8 };

export const PRESETS = {
  /** Trains visibly in minutes on two CPU cores. */
  tiny: { ...defaults, vocabSize: 4096, dModel: 128, dKv: 32, dFf: 512, numLayers: 2, numDecoderLayers: 2, numHeads: 4, numExperts: 8 },
  mini,
  /**
   * mini with HF's router init (std 1.0 at dModel 64): with mini64's training (64 sequences a step at
   * 3e-3, 1,600 steps) the one where the `experts` grid puts Switch ahead of dense (README, Experiments).
   */
  mini64: { ...mini, routerInitScale: 64 },
  small: { ...defaults, vocabSize: 8192, dModel: 256, dKv: 32, dFf: 1024, numLayers: 4, numDecoderLayers: 4, numHeads: 8, numExperts: 16 },
  /** HF's switch-base-8 shape (T5-Base with 8 experts): for a machine with a real accelerator. */
  base: { ...defaults, vocabSize: 32128, dModel: 768, dKv: 64, dFf: 3072, numLayers: 12, numDecoderLayers: 12, numHeads: 12, numExperts: 8 },
} satisfies Record<string, SwitchConfig>;

export type PresetName = keyof typeof PRESETS;
export const PRESET_NAMES = Object.keys(PRESETS) as PresetName[];

export class ConfigError extends Error {
  constructor(readonly problems: { field: string; message: string }[]) {
    super(`invalid config:\n${problems.map((p) => `  - ${p.field}: ${p.message}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Validates `raw`, optionally over a preset's values, and names every bad field. */
export function parseConfig(raw: unknown, base?: PresetName): SwitchConfig {
  const merged = base && isRecord(raw) ? { ...PRESETS[base], ...raw } : raw;
  const result = switchConfigSchema.safeParse(merged);
  if (result.success) return result.data;
  throw configError(result.error);
}

/** A ConfigError naming every field that a zod schema refused, with its dotted path. */
export function configError(error: z.ZodError): ConfigError {
  return new ConfigError(
    error.issues.flatMap((issue) => {
      const base = issue.path.join('.');
      if (issue.code === 'unrecognized_keys') return issue.keys.map((k) => ({ field: base ? `${base}.${k}` : k, message: 'unknown field' }));
      return [{ field: base || '(root)', message: issue.message }];
    }),
  );
}

/** Whether feed-forward layer `i` of a stack with this sparse step is a sparse (MoE) layer. */
export function isSparseLayer(config: SwitchConfig, i: number, step: number): boolean {
  if (config.router === 'dense' || step <= 0) return false;
  return step === 1 || i % step === 1;
}

/** Config fields that HF's SwitchTransformersConfig has under their snake_case name, with the same meaning. */
export const HF_CONFIG_FIELDS = {
  vocabSize: 'vocab_size',
  dModel: 'd_model',
  dKv: 'd_kv',
  dFf: 'd_ff',
  numLayers: 'num_layers',
  numDecoderLayers: 'num_decoder_layers',
  numHeads: 'num_heads',
  numExperts: 'num_experts',
  routerJitterNoise: 'router_jitter_noise',
  routerDtype: 'router_dtype',
  routerIgnorePaddingTokens: 'router_ignore_padding_tokens',
  routerZLossCoef: 'router_z_loss_coef',
  routerAuxLossCoef: 'router_aux_loss_coef',
  relativeAttentionNumBuckets: 'relative_attention_num_buckets',
  relativeAttentionMaxDistance: 'relative_attention_max_distance',
  dropoutRate: 'dropout_rate',
  layerNormEpsilon: 'layer_norm_epsilon',
  padTokenId: 'pad_token_id',
  eosTokenId: 'eos_token_id',
  decoderStartTokenId: 'decoder_start_token_id',
} as const satisfies Partial<Record<keyof SwitchConfig, string>>;

/** The same config under HF's snake_case names (`hf_config.json`). */
export function toHfConfig(c: SwitchConfig): Record<string, unknown> {
  const countSparse = (n: number, step: number) =>
    Array.from({ length: n }, (_, i) => isSparseLayer(c, i, step)).filter(Boolean).length;
  return {
    architectures: ['SwitchTransformersForConditionalGeneration'],
    model_type: 'switch_transformers',
    ...Object.fromEntries(Object.entries(HF_CONFIG_FIELDS).map(([k, hf]) => [hf, c[k as keyof typeof HF_CONFIG_FIELDS]])),
    num_sparse_encoder_layers: countSparse(c.numLayers, c.encoderSparseStep),
    num_sparse_decoder_layers: countSparse(c.numDecoderLayers, c.decoderSparseStep),
    expert_capacity: c.expertCapacity ?? null,
    router_bias: false,
    initializer_factor: Math.sqrt(c.initScale),
    dense_act_fn: 'relu',
    feed_forward_proj: 'relu',
    is_encoder_decoder: true,
    tie_word_embeddings: false,
    // Not HF fields: Switchyard's own, kept so the export loses nothing.
    switchyard_router: c.router,
    switchyard_expert_capacity: c.expertCapacity ?? null,
    switchyard_ntlb_max_tries: c.ntlbMaxTries ?? null,
    switchyard_router_exploration: c.routerExploration,
    switchyard_router_input_dropout_rate: c.routerInputDropoutRate,
    switchyard_router_init_scale: c.routerInitScale ?? null,
    switchyard_capacity_factor: c.capacityFactor,
    switchyard_eval_capacity_factor: c.evalCapacityFactor,
    switchyard_expert_dropout_rate: c.expertDropoutRate,
    switchyard_dtype: c.dtype,
  };
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}
