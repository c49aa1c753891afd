// HF's config.json -> the engine's model config, through the same field table as toHfConfig, with
// HF's own defaults (SwitchTransformersConfig) for what the file leaves out, and HF's reading of
// the sparse layers: step = num_layers // num_sparse_layers, recomputed whatever the file says.
import { HF_CONFIG_FIELDS, PRESETS, parseConfig, type SwitchConfig } from '../../model/config';
import { CheckpointFormatError } from './tensors';

/** SwitchTransformersConfig's defaults (switch-base-8's shape) where the engine's differ. */
const HF_DEFAULTS = {
  vocab_size: 32128,
  d_model: 768,
  d_kv: 64,
  d_ff: 2048,
  num_layers: 12,
  num_heads: 12,
  num_experts: 8,
  expert_capacity: 64,
  num_sparse_encoder_layers: 3,
  num_sparse_decoder_layers: 3,
  router_jitter_noise: 0.01,
  router_dtype: 'float32',
  router_ignore_padding_tokens: false,
  router_aux_loss_coef: 0.001,
  router_z_loss_coef: 0.001,
  dense_act_fn: 'relu',
  tie_word_embeddings: true,
  decoder_start_token_id: 0,
};

export interface HfModelConfig {
  model: SwitchConfig;
  /** lm_head is shared.weight, and the decoder's output is scaled by d_model^-0.5 before it. */
  tieWordEmbeddings: boolean;
}

export function fromHfConfig(raw: unknown): HfModelConfig {
  const fail = (why: string) => new CheckpointFormatError('config.json', why);
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw fail('not a JSON object');
  const hf: Record<string, unknown> = { ...HF_DEFAULTS, ...raw };
  if (hf.model_type !== 'switch_transformers') throw fail(`model_type is ${JSON.stringify(hf.model_type)}, not "switch_transformers"`);
  if (hf.dense_act_fn !== 'relu') throw fail(`dense_act_fn ${JSON.stringify(hf.dense_act_fn)} is not supported (relu only)`);
  if (hf.router_bias) throw fail('router_bias is not supported: the engine\'s router has no bias, as in the paper');
  const numLayers = hf.num_layers as number;
  const numDecoderLayers = (hf.num_decoder_layers ?? numLayers) as number;
  const step = (n: number, sparse: unknown) => ((sparse as number) > 0 ? Math.floor(n / (sparse as number)) : n);
  const direct = Object.fromEntries(
    Object.entries(HF_CONFIG_FIELDS)
      .filter(([, name]) => hf[name] !== undefined && hf[name] !== null)
      .map(([field, name]) => [field, hf[name]]),
  );
  const model = parseConfig(
    {
      ...direct,
      numDecoderLayers,
      router: 'switch',
      encoderSparseStep: step(numLayers, hf.num_sparse_encoder_layers),
      decoderSparseStep: step(numDecoderLayers, hf.num_sparse_decoder_layers),
      // HF's capacity: a fixed number of slots per expert and sequence, in training and eval.
      expertCapacity: hf.expert_capacity,
      dtype: 'float32',
      // HF's experts are DenseActDense modules with the model's dropout.
      expertDropoutRate: hf.dropout_rate ?? PRESETS.base.dropoutRate,
      ...(hf.switchyard_router === undefined ? {} : switchyardFields(hf)),
    },
    'base',
  );
  return { model, tieWordEmbeddings: hf.tie_word_embeddings !== false };
}

/** A Switchyard export keeps what HF has no field for (toHfConfig's switchyard_*): its own routing comes back. */
function switchyardFields(hf: Record<string, unknown>): Record<string, unknown> {
  return {
    router: hf.switchyard_router,
    expertCapacity: hf.switchyard_expert_capacity ?? undefined,
    capacityFactor: hf.switchyard_capacity_factor,
    evalCapacityFactor: hf.switchyard_eval_capacity_factor,
    expertDropoutRate: hf.switchyard_expert_dropout_rate,
    dtype: hf.switchyard_dtype,
    initScale: (hf.initializer_factor as number) ** 2,
    routerInitScale: hf.switchyard_router_init_scale ?? undefined,
  };
}
