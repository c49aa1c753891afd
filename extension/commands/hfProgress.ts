// The engine's `progress` events of one import or export, shown in a notification while it runs.
import { resolve } from 'node:path';
import * as vscode from 'vscode';
import type { EngineEvent } from '../../engine/protocol';
import type { Switchyard } from '../context';

/** Reading or writing a 2.5 GB model takes minutes on a small machine: far past the usual request timeout. */
export const HF_TIMEOUT_MS = 60 * 60_000;

/** Runs `work` under a progress notification fed by the engine's progress events for `folder`. */
export function withHfProgress<T>(sy: Switchyard, task: 'importHf' | 'exportHf', folder: string, title: string, work: () => Promise<T>): Thenable<T> {
  return vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: false }, async (progress) => {
    let reported = 0;
    const sub = sy.engine.onEvent((e: EngineEvent) => {
      if (e.event !== 'progress' || e.task !== task || e.folder !== resolve(folder) || !e.total) return;
      const percent = (100 * e.done) / e.total;
      progress.report({ message: e.message, increment: Math.max(0, percent - reported) });
      reported = Math.max(reported, percent);
    });
    try {
      return await work();
    } finally {
      sub.dispose();
    }
  });
}
