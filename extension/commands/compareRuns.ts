// Compare Runs (Runs tree multi-select, or an experiment's row) opens the Compare view on those runs;
// Export Comparison as Markdown / PNG write the results table (results.md's, one helper:
// engine/experiments/results.ts's resultsMarkdown) and a chart of the open view.
import * as vscode from 'vscode';
import { compareChartIdSchema, type CompareSelection } from '../../engine/protocol';
import { describeError } from '../engine/engineManager';
import { runIdOf, type Switchyard } from '../context';
import { experimentIdOf } from './runExperiment';

/** What Compare Runs opened, for tests: the view's title, its runs and its table. */
export interface CompareResult {
  title: string;
  runIds: string[];
  names: string[];
  columns: string[];
  rows: string[][];
  /** With several seeds per entry: the table of each entry over its seeds. */
  entries?: { columns: string[]; rows: string[][] };
  markdown: string;
}

/** `arg`: the clicked node, `selected`: the tree's selection, or `{ runIds }` / an experiment id from a test. */
export async function compareRuns(sy: Switchyard, arg: unknown, selected?: unknown): Promise<CompareResult | undefined> {
  const selection = selectionOf(arg, selected);
  if (!selection) {
    void vscode.window.showErrorMessage('Switchyard: select two or more runs to compare (Ctrl/Cmd-click in the Runs view), or an experiment with started runs.');
    return undefined;
  }
  try {
    const { title, markdown, init } = await sy.compare.show(selection);
    return { title, markdown, runIds: init.runs.map((r) => r.run.id), names: init.runs.map((r) => r.name), ...init.table, ...(init.entries ? { entries: init.entries } : {}) };
  } catch (err) {
    void vscode.window.showErrorMessage(`Switchyard: could not compare: ${describeError(err)}`);
    return undefined;
  }
}

/** `{ path }` from a test; else a save dialog. Returns the file written. */
export async function exportCompareMarkdown(sy: Switchyard, arg: unknown): Promise<string | undefined> {
  return exporting(() => sy.compare.exportMarkdown(pathOf(arg)));
}

/** `{ chart, path }` from a test; else a quick pick of the open view's charts and a save dialog. */
export async function exportComparePng(sy: Switchyard, arg: unknown): Promise<string | undefined> {
  const given = arg && typeof arg === 'object' && 'chart' in arg ? compareChartIdSchema.safeParse(arg.chart) : undefined;
  if (given && !given.success) {
    void vscode.window.showErrorMessage(`Switchyard: not a chart of the Compare view: ${JSON.stringify((arg as { chart: unknown }).chart)}`);
    return undefined;
  }
  const chart = given?.data ?? (await pickChart(sy));
  if (!chart) return undefined;
  return exporting(() => sy.compare.exportPng(chart, pathOf(arg)));
}

async function pickChart(sy: Switchyard): Promise<string | undefined> {
  const names = sy.compare.current?.init.runs.map((r) => r.name) ?? [];
  const items = [
    { label: 'Cross-entropy by step', chart: 'loss-step' },
    { label: 'Cross-entropy by training time', chart: 'loss-time' },
    { label: 'Dropped tokens', chart: 'overflow' },
    { label: 'Router entropy', chart: 'entropy' },
    { label: 'Load imbalance', chart: 'loadcv' },
    ...names.map((name, i) => ({ label: `Expert load of ${name}`, chart: `heatmap-${i}` })),
  ];
  return (await vscode.window.showQuickPick(items, { title: 'Export a Compare chart as PNG' }))?.chart;
}

async function exporting(f: () => Promise<string | undefined>): Promise<string | undefined> {
  try {
    return await f();
  } catch (err) {
    void vscode.window.showErrorMessage(`Switchyard: could not export: ${describeError(err)}`);
    return undefined;
  }
}

function pathOf(arg: unknown): string | undefined {
  return arg && typeof arg === 'object' && 'path' in arg && typeof arg.path === 'string' ? arg.path : undefined;
}

function selectionOf(arg: unknown, selected: unknown): CompareSelection | undefined {
  const experimentId = experimentIdOf(arg);
  if (experimentId) return { experimentId };
  const given = arg && typeof arg === 'object' && 'runIds' in arg && Array.isArray(arg.runIds) ? (arg.runIds as unknown[]) : Array.isArray(selected) ? selected : [arg];
  const runIds = [...new Set(given.map(runIdOf).filter((id): id is string => id !== undefined))];
  return runIds.length >= 2 ? { runIds } : undefined;
}
