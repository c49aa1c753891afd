// The webview's edges: the VS Code API (acquired once), inbound messages checked against their
// schema, outbound messages checked before they are posted.
import type { z } from 'zod';
import { check, describeValue } from './validate';

export interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState<T>(state: T): T;
}

declare global {
  /** Provided by VS Code inside a webview; may be called only once. */
  function acquireVsCodeApi(): VsCodeApi;
}

let api: VsCodeApi | undefined;

/** The VS Code API, or a stand-in that keeps state in memory outside VS Code. */
export function vscodeApi(): VsCodeApi {
  if (api) return api;
  if (typeof acquireVsCodeApi === 'function') {
    api = acquireVsCodeApi();
  } else {
    let state: unknown;
    api = {
      postMessage: (m) => console.info('[switchyard webview] postMessage (no VS Code)', m),
      getState: () => state,
      setState: (s) => (state = s),
    };
  }
  return api;
}

/** A function that posts only messages that satisfy `schema` (others are logged and dropped). */
export function poster<S extends z.ZodType>(schema: S, tag: string): (message: z.infer<S>) => boolean {
  return (message) => {
    const r = check(schema, message);
    if (!r.ok) {
      console.warn(`[switchyard ${tag}] not posting an invalid message: ${r.reason}`);
      return false;
    }
    vscodeApi().postMessage(r.value);
    return true;
  };
}

/** Calls `handle` with each window message that satisfies `schema`; warns about and ignores the rest. */
export function listen<S extends z.ZodType>(schema: S, tag: string, handle: (message: z.infer<S>) => void): void {
  window.addEventListener('message', (event: MessageEvent<unknown>) => {
    const r = check(schema, event.data);
    if (!r.ok) {
      console.warn(`[switchyard ${tag}] ignoring an invalid ${describeValue(event.data)}: ${r.reason}`);
      return;
    }
    try {
      handle(r.value);
    } catch (err) {
      console.error(`[switchyard ${tag}] failed to handle a '${describeValue(event.data)}':`, err);
    }
  });
}
