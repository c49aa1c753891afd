// HF's parameter names and shapes for a config (SwitchTransformersForConditionalGeneration's
// state dict), and the engine's name for each. The engine names its parameters after HF's modules
// but calls every attention module `attention` (HF: `SelfAttention`, or `EncDecAttention` for the
// decoder's layer.1), and stores matrices [in, out] where torch's nn.Linear stores [out, in].
import { isSparseLayer, type SwitchConfig } from '../../model/config';

export interface HfParam {
  hfName: string;
  /** As torch stores it: nn.Linear [out, in], nn.Embedding [num, dim]. */
  hfShape: number[];
  engineName: string;
  /** The engine holds the transpose ([in, out]): every nn.Linear weight. */
  transposed: boolean;
}

/** The engine's name of an HF parameter. */
export function engineName(hfName: string): string {
  return hfName.replace(/\.(SelfAttention|EncDecAttention)\./, '.attention.');
}

/** Every parameter the engine's model of `c` has, under HF's names; lm_head only when untied. */
export function hfParams(c: SwitchConfig, tieWordEmbeddings: boolean): HfParam[] {
  const inner = c.numHeads * c.dKv;
  const params: HfParam[] = [];
  const embedding = (name: string, shape: number[]) => params.push({ hfName: name, hfShape: shape, engineName: engineName(name), transposed: false });
  const linear = (name: string, out: number, inp: number) => params.push({ hfName: name, hfShape: [out, inp], engineName: engineName(name), transposed: true });
  const norm = (name: string) => embedding(name, [c.dModel]);

  embedding('shared.weight', [c.vocabSize, c.dModel]);
  for (const stack of ['encoder', 'decoder'] as const) {
    const decoder = stack === 'decoder';
    const n = decoder ? c.numDecoderLayers : c.numLayers;
    for (let i = 0; i < n; i++) {
      const p = `${stack}.block.${i}`;
      for (const [j, module] of (decoder ? ['SelfAttention', 'EncDecAttention'] : ['SelfAttention']).entries()) {
        for (const w of ['q', 'k', 'v']) linear(`${p}.layer.${j}.${module}.${w}.weight`, inner, c.dModel);
        linear(`${p}.layer.${j}.${module}.o.weight`, c.dModel, inner);
        if (i === 0 && j === 0) embedding(`${p}.layer.0.SelfAttention.relative_attention_bias.weight`, [c.relativeAttentionNumBuckets, c.numHeads]);
        norm(`${p}.layer.${j}.layer_norm.weight`);
      }
      const ff = `${p}.layer.${decoder ? 2 : 1}`;
      if (isSparseLayer(c, i, decoder ? c.decoderSparseStep : c.encoderSparseStep)) {
        linear(`${ff}.mlp.router.classifier.weight`, c.numExperts, c.dModel);
        for (let e = 0; e < c.numExperts; e++) {
          linear(`${ff}.mlp.experts.expert_${e}.wi.weight`, c.dFf, c.dModel);
          linear(`${ff}.mlp.experts.expert_${e}.wo.weight`, c.dModel, c.dFf);
        }
      } else {
        linear(`${ff}.mlp.wi.weight`, c.dFf, c.dModel);
        linear(`${ff}.mlp.wo.weight`, c.dModel, c.dFf);
      }
      norm(`${ff}.layer_norm.weight`);
    }
    norm(`${stack}.final_layer_norm.weight`);
  }
  if (!tieWordEmbeddings) linear('lm_head.weight', c.vocabSize, c.dModel);
  return params;
}

/** Names a state dict may also hold for tensors tied to shared.weight (HF ignores them when tied). */
export function tiedAliases(tieWordEmbeddings: boolean): string[] {
  return ['encoder.embed_tokens.weight', 'decoder.embed_tokens.weight', ...(tieWordEmbeddings ? ['lm_head.weight'] : [])];
}
