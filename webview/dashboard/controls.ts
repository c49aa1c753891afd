// Which run commands the dashboard offers, from what it knows of the run. DOM-free.
import type { RunStatus } from '../../engine/protocol';

export type Command = 'pause' | 'resume' | 'stop';

export interface ControlState {
  pause: boolean;
  resume: boolean;
  stop: boolean;
}

export const NO_CONTROLS: ControlState = { pause: false, resume: false, stop: false };

/**
 * Enabled commands: Pause and Stop while running, Resume and Stop while paused, none once stopped
 * or completed, for an inactive run (the engine's commands act on its active run), or while a
 * command just sent awaits its new state.
 */
export function controlState(status: RunStatus | null, active: boolean, pending = false): ControlState {
  if (!status || !active || pending) return NO_CONTROLS;
  switch (status.state) {
    case 'running':
      return { pause: true, resume: false, stop: true };
    case 'paused':
      return { pause: false, resume: true, stop: true };
    default:
      return NO_CONTROLS;
  }
}

/** Whether a run in this state is the engine's active run. */
export function isLiveState(status: RunStatus | null): boolean {
  return status?.state === 'running' || status?.state === 'paused';
}
