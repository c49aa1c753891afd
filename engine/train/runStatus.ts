// status.json of a run folder, and the run id it names: part of the run format (runFormat.ts) and
// of the protocol (protocol.ts re-exports it), kept apart so that neither imports the other.
import { z } from 'zod';

export const runIdSchema = z.string().regex(/^[\w.-]+$/, 'a run id: letters, digits, _ . -').max(200);
const count = z.number().int().min(0);

export const runStateSchema = z.enum(['running', 'paused', 'stopped', 'completed']);
export const runStatusSchema = z.object({
  id: runIdSchema,
  state: runStateSchema,
  step: count,
  steps: count,
  /** Why the run paused or stopped by itself (a NaN loss). */
  message: z.string().optional(),
  backend: z.string(),
  /** Model replicas training side by side in worker threads (training.dataParallel); absent: one process. */
  dataParallel: z.number().int().min(2).optional(),
  updatedAt: z.string(),
});
export type RunStatus = z.infer<typeof runStatusSchema>;
