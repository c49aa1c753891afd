// HF's config.json read as HF reads it: its defaults for what the file leaves out, the sparse step
// recomputed from num_sparse_*_layers, and what the engine cannot run refused by name.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fromHfConfig } from '../../engine/formats/hf/config';
import { isSparseLayer } from '../../engine/model/config';

// google/switch-base-8's config.json, as the hub has it (no tie_word_embeddings: HF's default, true).
const SWITCH_BASE_8 = {
  architectures: ['SwitchTransformersForConditionalGeneration'],
  d_ff: 3072,
  d_kv: 64,
  d_model: 768,
  decoder_sparse_step: 2,
  decoder_start_token_id: 0,
  dense_act_fn: 'relu',
  dropout_rate: 0.1,
  encoder_sparse_step: 2,
  eos_token_id: 1,
  expert_capacity: 64,
  initializer_factor: 1.0,
  is_encoder_decoder: true,
  layer_norm_epsilon: 1e-6,
  model_type: 'switch_transformers',
  num_decoder_layers: 12,
  num_experts: 8,
  num_heads: 12,
  num_layers: 12,
  num_sparse_decoder_layers: 6,
  num_sparse_encoder_layers: 6,
  pad_token_id: 0,
  router_aux_loss_coef: 0.001,
  router_bias: false,
  router_dtype: 'float32',
  router_ignore_padding_tokens: false,
  router_jitter_noise: 0.01,
  router_z_loss_coef: 0.001,
  vocab_size: 32128,
};

test('switch-base-8: its shape, sparse blocks 1, 3, …, 11, capacity 64 per sequence, tied embeddings', () => {
  const { model: c, tieWordEmbeddings } = fromHfConfig(SWITCH_BASE_8);
  assert.equal(tieWordEmbeddings, true);
  assert.deepEqual([c.vocabSize, c.dModel, c.dKv, c.dFf, c.numHeads, c.numLayers, c.numDecoderLayers, c.numExperts], [32128, 768, 64, 3072, 12, 12, 12, 8]);
  const sparse = (step: number) => Array.from({ length: 12 }, (_, i) => i).filter((i) => isSparseLayer(c, i, step));
  assert.deepEqual(sparse(c.encoderSparseStep), [1, 3, 5, 7, 9, 11]);
  assert.deepEqual(sparse(c.decoderSparseStep), [1, 3, 5, 7, 9, 11]);
  assert.equal(c.expertCapacity, 64);
  assert.equal(c.routerIgnorePaddingTokens, false);
  assert.equal(c.router, 'switch');
});

test('the sparse step follows num_sparse_*_layers, as HF recomputes it, whatever *_sparse_step says', () => {
  const { model: c } = fromHfConfig({ ...SWITCH_BASE_8, num_sparse_encoder_layers: 3, encoder_sparse_step: 2 });
  assert.equal(c.encoderSparseStep, 4);
});

test('what the engine cannot run is refused by name', () => {
  assert.throws(() => fromHfConfig({ ...SWITCH_BASE_8, dense_act_fn: 'gated-gelu' }), /config\.json: dense_act_fn "gated-gelu" is not supported/);
  assert.throws(() => fromHfConfig({ ...SWITCH_BASE_8, router_bias: true }), /config\.json: router_bias is not supported/);
  assert.throws(() => fromHfConfig({ ...SWITCH_BASE_8, model_type: 't5' }), /model_type is "t5"/);
  assert.throws(() => fromHfConfig({ ...SWITCH_BASE_8, d_model: -1 }), /dModel/);
});
