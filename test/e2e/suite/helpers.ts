// Shared by the extension-host tests (bundled into each test file): the extension's API, waits on
// real signals (engine events, engine state changes) with deadlines, a short training run, and a spy
// on error notifications. Every wait names what it waited for when it times out.
import * as assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { EngineInfo, EngineState } from '../../../extension/engine/engineManager';
import type { SwitchyardApi } from '../../../extension/extension';
import type { EngineEvent, RunSummary } from '../../../engine/protocol';

export const EXTENSION_ID = 'switchyard.switchyard';

/** A tiny Switch model that trains a step in tens of milliseconds here: for tests, not for results. */
export const SMALL_CONFIG = {
  model: { dModel: 32, dKv: 8, dFf: 64, numHeads: 2, numExperts: 4 },
  training: { batchSize: 2, inputLength: 32, vocabSize: 1024, validateEvery: 5, checkpointEvery: 10 },
};

import type { TrainingChoice } from '../../../extension/commands/startTraining';

export type { TrainingChoice };

export function smallChoice(steps: number, corpus = 'brown'): TrainingChoice {
  return { preset: 'tiny', corpus, router: 'switch', numExperts: 4, capacityFactor: 1.25, steps, config: SMALL_CONFIG };
}

export async function getApi(): Promise<SwitchyardApi> {
  const ext = vscode.extensions.getExtension<SwitchyardApi>(EXTENSION_ID);
  assert.ok(ext, `${EXTENSION_ID} is not loaded in this extension host`);
  return ext.activate();
}

/** Makes sure the engine runs (starting it if needed) and returns its info. */
export async function ensureEngine(api: SwitchyardApi): Promise<EngineInfo> {
  if (api.engine.state.state !== 'running') {
    const info = await vscode.commands.executeCommand<EngineInfo>('switchyard.restartEngine');
    assert.equal(info.state, 'running', `the engine did not start: ${JSON.stringify(info)}`);
  }
  await api.engine.request('status', {});
  return api.engine.state;
}

/** The pid in the engine's `where` ('local (pid N)'). */
export function enginePid(api: SwitchyardApi): number {
  const m = /^local \(pid (\d+)\)$/.exec(api.engine.state.where ?? '');
  assert.ok(m, `the engine is not a local process: ${JSON.stringify(api.engine.state)}`);
  return Number(m[1]);
}

function describeEvent(e: EngineEvent): string {
  if (e.event === 'log') return `log ${e.message.slice(0, 80)}`;
  if (e.event === 'progress') return `progress ${e.task} ${e.done}/${e.total}`;
  if (e.event === 'experiment') return `experiment ${e.data.id} ${e.data.state}`;
  if (e.event === 'step') return `step ${e.runId}@${e.data.step}`;
  if (e.event === 'validation') return `validation ${e.runId}@${e.data.step}`;
  return `state ${e.runId} ${e.data.state}@${e.data.step}`;
}

/**
 * Records the engine's events from its creation on, so that a wait never misses one that arrived
 * before it started waiting. dispose() when done.
 */
export class EventLog implements vscode.Disposable {
  readonly events: EngineEvent[] = [];
  private readonly waiters = new Set<() => void>();
  private readonly sub: vscode.Disposable;

  constructor(api: SwitchyardApi) {
    this.sub = api.engine.onEvent((e) => {
      this.events.push(e);
      for (const w of [...this.waiters]) w();
    });
  }

  /** The first recorded event (past or future) that matches, within `timeoutMs`. */
  waitFor<E extends EngineEvent>(what: string, match: (e: EngineEvent) => e is E, timeoutMs: number): Promise<E>;
  waitFor(what: string, match: (e: EngineEvent) => boolean, timeoutMs: number): Promise<EngineEvent>;
  waitFor(what: string, match: (e: EngineEvent) => boolean, timeoutMs: number): Promise<EngineEvent> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = this.events.find(match);
        if (!found) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve(found);
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        const seen = this.events.slice(-8).map(describeEvent).join(', ') || 'none';
        reject(new Error(`no ${what} within ${timeoutMs / 1000} s (last events: ${seen})`));
      }, timeoutMs);
      this.waiters.add(check);
      check();
    });
  }

  steps(runId: string): Extract<EngineEvent, { event: 'step' }>[] {
    return this.events.filter((e): e is Extract<EngineEvent, { event: 'step' }> => e.event === 'step' && e.runId === runId);
  }

  states(runId: string): string[] {
    return this.events.flatMap((e) => (e.event === 'state' && e.runId === runId ? [e.data.state] : []));
  }

  dispose(): void {
    this.sub.dispose();
    this.waiters.clear();
  }
}

export const isStep =
  (runId: string, minStep = 1) =>
  (e: EngineEvent): e is Extract<EngineEvent, { event: 'step' }> =>
    e.event === 'step' && e.runId === runId && e.data.step >= minStep;

export const isState =
  (runId: string, state: string) =>
  (e: EngineEvent): e is Extract<EngineEvent, { event: 'state' }> =>
    e.event === 'state' && e.runId === runId && e.data.state === state;

/** The next engine state change to `state` (or the current one, if it already is), within `timeoutMs`. */
export function waitForEngineState(api: SwitchyardApi, state: EngineState, timeoutMs: number): Promise<EngineInfo> {
  if (api.engine.state.state === state) return Promise.resolve(api.engine.state);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      sub.dispose();
      reject(new Error(`the engine did not become ${state} within ${timeoutMs / 1000} s (it is ${JSON.stringify(api.engine.state)})`));
    }, timeoutMs);
    const sub = api.engine.onDidChangeState((info) => {
      if (info.state !== state) return;
      clearTimeout(timer);
      sub.dispose();
      resolve(info);
    });
  });
}

/** Polls a condition that no event announces (e.g. decorations cleared by the extension's own listener). */
export async function waitUntil(what: string, cond: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`not true within ${timeoutMs / 1000} s: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Starts a short training run through the command and waits until it completes. */
export async function trainShortRun(api: SwitchyardApi, steps = 6, corpus = 'brown'): Promise<RunSummary> {
  await ensureEngine(api);
  const log = new EventLog(api);
  try {
    const run = await vscode.commands.executeCommand<RunSummary | undefined>('switchyard.startTraining', smallChoice(steps, corpus));
    assert.ok(run, 'switchyard.startTraining returned nothing (see the error notification in the log)');
    await log.waitFor(`run ${run.id} completed`, isState(run.id, 'completed'), 120_000);
    return run;
  } finally {
    log.dispose();
  }
}

/**
 * Records the notifications of one kind (error or warning) the extension shows. The test files lie
 * inside the extension's folder, so `require('vscode')` gives them the same API object as the
 * extension: replacing `window.showErrorMessage` on it sees the extension's calls. restore() puts
 * the original back.
 */
export function spyMessages(method: 'showErrorMessage' | 'showWarningMessage'): { messages: { text: string; items: string[] }[]; restore(): void } {
  const w = vscode.window as unknown as Record<typeof method, (...args: unknown[]) => Thenable<unknown>>;
  const original = w[method];
  const messages: { text: string; items: string[] }[] = [];
  w[method] = (...args: unknown[]) => {
    messages.push({ text: String(args[0]), items: args.slice(1).filter((a): a is string => typeof a === 'string') });
    return Promise.resolve(undefined);
  };
  return {
    messages,
    restore: () => {
      w[method] = original;
    },
  };
}

export const spyErrorMessages = () => spyMessages('showErrorMessage');

/** Every node of the Runs tree under `node`, with its TreeItem, depth first. */
export async function treeChildren(api: SwitchyardApi, node?: Parameters<SwitchyardApi['runsTree']['getChildren']>[0]) {
  const children = await api.runsTree.getChildren(node);
  return (children ?? []).map((n) => ({ node: n, item: api.runsTree.getTreeItem(n) as vscode.TreeItem }));
}

export function label(item: vscode.TreeItem): string {
  return typeof item.label === 'string' ? item.label : (item.label?.label ?? '');
}

/** Debian's Python with torch (.ci/install-python.sh), as `npm run test:python` calls it. */
export const PYTHON = '/usr/bin/python3';

/**
 * Trains a small PyTorch MoE (the probe tests' TinyMoE: a Switch router with capacity and a
 * Mixtral-style top-2 gate) with `switchyard_probe.attach(...)` writing `folder`, a record every
 * step and `pauseSeconds` between steps: a real training job another process runs. `stderr()`: what
 * Python printed, for a failure's message.
 */
export function startProbeRun(folder: string, steps: number, pauseSeconds: number): { process: ChildProcess; stderr: () => string } {
  const cwd = join(vscode.extensions.getExtension(EXTENSION_ID)!.extensionPath, 'python', 'switchyard_probe');
  const args = ['-m', 'tests.make_run', folder, '--steps', String(steps), '--every', '1', '--pause', String(pauseSeconds)];
  const child = spawn(PYTHON, args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr?.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-2000)));
  return { process: child, stderr: () => err };
}
