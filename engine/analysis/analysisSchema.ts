// The shape of a run's analysis (analyzeRun.ts), as the CLI's --json prints it and the engine's
// `analyzeRun` answers it: a schema, so that the extension checks what it gets.
import { z } from 'zod';
import { WHAT_IF_RULES } from './capacityWhatIf';

const tokenCount = z.object({ tokenId: z.number().int(), count: z.number().int() });
export const analysisSchema = z.object({
  run: z.string(),
  step: z.number().int(),
  /** The run's router and eval capacity factor: where a what-if rule is the run's own, its replay at that factor drops what the router dropped. */
  router: z.string(),
  evalCapacityFactor: z.number(),
  validationBatches: z.number().int(),
  layers: z.array(
    z.object({
      layer: z.string(),
      tokens: z.number().int(),
      /** Dropped share at the run's own eval capacity factor, as the router dropped them. */
      droppedShare: z.number(),
      specialisation: z.object({
        layer: z.string(),
        labels: z.array(z.string()),
        /** [E][labels] token counts. */
        counts: z.array(z.array(z.number())),
        experts: z.array(
          z.object({
            expert: z.number().int(),
            tokens: z.number().int(),
            labelShares: z.array(z.number()),
            dominantLabel: z.string().optional(),
            topByCount: z.array(tokenCount),
            topByLift: z.array(tokenCount.extend({ lift: z.number() })),
          }),
        ),
        nmi: z.number(),
      }),
      /** [E] pre- vs post-capacity load: tokens whose first choice each expert is, and tokens it kept. */
      load: z.object({ routed: z.array(z.number().int()), kept: z.array(z.number().int()) }),
      dropPosition: z.array(z.object({ from: z.number().int(), tokens: z.number().int(), dropped: z.number().int(), rate: z.number() })),
      /** Dropped share replayed per rule (switch, ntlb) and capacity factor: rule-major, factors ascending. */
      whatIf: z.array(z.object({ rule: z.enum(WHAT_IF_RULES), capacityFactor: z.number(), dropped: z.number().int(), droppedShare: z.number() })),
      /** How alike the router's input is across tokens, and its logits' spread over experts (routerInput.ts); absent in analyses made before it. */
      routerInput: z.object({ commonShare: z.number(), commonLogitStd: z.number(), tokenLogitStd: z.number() }).optional(),
    }),
  ),
  /** Validation cross-entropy at other eval capacity factors (a real forward pass each). */
  lossAtFactor: z.array(z.object({ capacityFactor: z.number(), crossEntropy: z.number() })),
  /** At each kept checkpoint: per layer, NMI(expert; label) (does specialisation grow over training?). */
  nmiOverTraining: z.array(z.object({ step: z.number().int(), nmi: z.record(z.string(), z.number()) })),
  /** Between consecutive kept checkpoints: per layer, the share of tokens whose expert changed. */
  stability: z.array(z.object({ from: z.number().int(), to: z.number().int(), changed: z.record(z.string(), z.number()) })),
  /** Token texts of the ids the tables name, for display. */
  tokenTexts: z.record(z.string(), z.string()),
});
export type Analysis = z.infer<typeof analysisSchema>;
