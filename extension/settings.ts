// The extension's settings, read in one place with their types.
import * as vscode from 'vscode';
import type { MeshConfig } from '../engine/mesh/meshConfig';
import { DEFAULT_MESH_CONFIG } from '../engine/mesh/meshConfig';
import { DEFAULT_THRESHOLDS, type AlertThresholds } from '../engine/analysis/health';

export interface Settings {
  backend: string;
  /** Threads of the engine's wasm backend; 0: the engine's default. */
  wasmThreads: number;
  nodePath: string;
  remoteUrl: string;
  remoteToken: string;
  requestTimeoutMs: number;
  runsFolder: 'extensionStorage' | 'workspace';
  defaultPreset: string;
  eventsPerSecond: number;
  maxSelectionChars: number;
  mesh: MeshConfig;
  /** Router-health alert thresholds for new runs. */
  alerts: AlertThresholds;
  /** Run folders (or folders of runs) written by other programs, followed as external runs. */
  runFolders: string[];
}

export function readSettings(): Settings {
  const c = vscode.workspace.getConfiguration('switchyard');
  return {
    backend: c.get('engine.backend', 'auto'),
    wasmThreads: c.get('engine.wasmThreads', 0),
    nodePath: c.get('engine.nodePath', ''),
    remoteUrl: c.get('engine.remoteUrl', ''),
    remoteToken: c.get('engine.remoteToken', ''),
    requestTimeoutMs: 1000 * c.get('engine.requestTimeoutSeconds', 60),
    runsFolder: c.get('runsFolder', 'extensionStorage'),
    defaultPreset: c.get('training.defaultPreset', 'tiny'),
    eventsPerSecond: c.get('events.maxPerSecond', 20),
    maxSelectionChars: c.get('inference.maxSelectionChars', 4000),
    mesh: {
      ...DEFAULT_MESH_CONFIG,
      shape: { data: c.get('mesh.data', 8), model: c.get('mesh.model', 1) },
      deviceFlops: 1e12 * c.get('mesh.deviceTflops', 61.5),
      linkBandwidth: 1e9 * c.get('mesh.linkGBps', 82),
    },
    runFolders: c.get<string[]>('runFolders', []).filter((f) => typeof f === 'string' && f.trim() !== ''),
    alerts: {
      collapseFactor: c.get('alerts.collapseFactor', DEFAULT_THRESHOLDS.collapseFactor),
      collapseSteps: c.get('alerts.collapseSteps', DEFAULT_THRESHOLDS.collapseSteps),
      deadSteps: c.get('alerts.deadSteps', DEFAULT_THRESHOLDS.deadSteps),
      overflowRate: c.get('alerts.overflowPercent', 100 * DEFAULT_THRESHOLDS.overflowRate) / 100,
      zLossFactor: c.get('alerts.zLossFactor', DEFAULT_THRESHOLDS.zLossFactor),
      zLossBaselineSteps: DEFAULT_THRESHOLDS.zLossBaselineSteps,
    },
  };
}
