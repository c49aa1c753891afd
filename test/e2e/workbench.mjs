// Driving the VS Code workbench (code-server in Chromium, through playwright-core) as a person would:
// the command palette, quick picks, modal dialogs, the notifications center, webviews (two iframes
// deep), the editor. Every wait is on something the page shows, with a deadline.
/* global document, getComputedStyle -- in functions that run in the page */
import { setTimeout as sleep } from 'node:timers/promises';

export const EXTENSION_ID = 'switchyard.switchyard';

const escapeRe = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * The document of one of Switchyard's webviews. VS Code puts it two iframes deep: an outer
 * `iframe.webview.ready`, whose src names the extension (extensionId=...) and, for a webview view
 * such as Routing, purpose=webviewView (a webview panel such as the dashboard has no purpose), and
 * the document itself in `#active-frame` inside it. The src does not name the view type.
 */
export function webviewFrame(page, kind) {
  const outer = `iframe.webview.ready[src*="extensionId=${EXTENSION_ID}"]`;
  const sel = kind === 'view' ? `${outer}[src*="purpose=webviewView"]` : `${outer}:not([src*="purpose="])`;
  return page.frameLocator(sel).frameLocator('#active-frame');
}

/** Calls `read` until `ok(value)` holds; returns the value. For state the page only shows (no event to wait on). */
export async function pollUntil(what, read, ok, timeoutMs, intervalMs = 200) {
  const deadline = Date.now() + timeoutMs;
  let last;
  let lastErr;
  for (;;) {
    try {
      last = await read();
      lastErr = undefined;
      if (ok(last)) return last;
    } catch (e) {
      lastErr = e;
    }
    if (Date.now() > deadline) {
      const seen = lastErr ? `error: ${lastErr.message.split('\n')[0]}` : `last value: ${JSON.stringify(last)}`;
      throw new Error(`not within ${timeoutMs / 1000} s: ${what} (${seen})`);
    }
    await sleep(intervalMs);
  }
}

export class Workbench {
  constructor(page) {
    this.page = page;
    this.quickInput = page.locator('.quick-input-widget');
  }

  /** Opens the command palette (F1). The keyboard focus stays where it is (an editor keeps its selection). */
  async openPalette() {
    await this.openQuickInput('F1');
  }

  /** Quick Open (Ctrl+P) with `name` typed, its row listed. */
  async quickOpen(name) {
    await this.openQuickInput('Control+P');
    await this.typeInQuickInput(name, '');
    await this.quickInput.locator('.quick-input-list .monaco-list-row', { hasText: name }).first().waitFor({ timeout: 30_000 });
  }

  /** Types `text` into the open quick input; keys typed while the focus was still on its way there are lost: then sets the box (`prefix` + text). */
  async typeInQuickInput(text, prefix) {
    await this.page.keyboard.type(text);
    const input = this.quickInput.locator('.quick-input-box input');
    if (!(await input.inputValue()).endsWith(text)) await input.fill(`${prefix}${text}`);
  }

  async openQuickInput(key) {
    const { page } = this;
    await page.keyboard.press(key);
    try {
      await this.quickInput.waitFor({ state: 'visible', timeout: 5_000 });
    } catch {
      // The focus was somewhere that keeps the key (e.g. nowhere yet): focus the workbench and try again.
      await page.locator('.part.statusbar').click({ position: { x: 5, y: 5 } });
      await page.keyboard.press(key);
      await this.quickInput.waitFor({ state: 'visible', timeout: 30_000 });
    }
  }

  /**
   * Runs a command from the palette by its title. `then`: 'hidden' (the palette closes), 'quickPick'
   * (the command opens a quick pick of its own: wait for nothing here), or a screenshot path to take
   * with the title typed.
   */
  async runCommand(title, { then = 'hidden', screenshot } = {}) {
    const { page } = this;
    await this.openPalette();
    await this.typeInQuickInput(title, '>');
    // The row labelled exactly so: the palette may rank another first (e.g. "Preferences: Browse
    // Color Themes in Marketplace" above "Preferences: Color Theme").
    const row = this.row(title);
    await row.waitFor({ state: 'visible', timeout: 30_000 });
    if (screenshot) await page.screenshot({ path: screenshot });
    await this.accept(row, title);
    if (then === 'hidden') await this.quickInput.waitFor({ state: 'hidden', timeout: 30_000 });
  }

  /**
   * Accepts the quick input's `row` (labelled `label`): a click, or, when something keeps the click
   * from landing for 5 s, the keyboard: Down until the focused row is the one, then Enter.
   */
  async accept(row, label) {
    try {
      await row.click({ timeout: 5_000 });
      return;
    } catch {
      const focused = this.quickInput.locator('.quick-input-list .monaco-list-row.focused .label-name');
      for (let i = 0; i < 50; i++) {
        if ((await focused.textContent({ timeout: 1_000 }).catch(() => ''))?.trim() === label) {
          await this.page.keyboard.press('Enter');
          return;
        }
        await this.page.keyboard.press('ArrowDown');
      }
      throw new Error(`the quick input's row ${JSON.stringify(label)} could be neither clicked nor reached with the keyboard`);
    }
  }

  /** The quick input's row whose label is exactly `label`. */
  row(label) {
    return this.quickInput
      .locator('.quick-input-list .monaco-list-row')
      .filter({ has: this.page.locator('.label-name', { hasText: new RegExp(`^\\s*${escapeRe(label)}\\s*$`) }) })
      .first();
  }

  /**
   * In an open quick pick whose title (or, for pickers without one, placeholder) contains `title`,
   * picks the item labelled exactly `label`.
   */
  async pick(title, label) {
    await pollUntil(
      `a quick pick titled "${title}"`,
      () =>
        this.quickInput.evaluate((w) => {
          const visible = (e) => e && e.offsetParent !== null;
          const t = w.querySelector('.quick-input-title');
          return `${visible(t) ? t.textContent : ''} ${w.querySelector('.quick-input-box input')?.getAttribute('placeholder') ?? ''}`;
        }),
      (t) => t.includes(title),
      30_000,
      100,
    );
    const row = this.row(label);
    await row.waitFor({ state: 'visible', timeout: 30_000 });
    await this.accept(row, label);
  }

  /**
   * Types `path` into VS Code's simple file dialog (code-server's file and folder picker, a quick
   * input). The dialog writes its starting folder into the box once it has read it: a path typed
   * before that is overwritten, so wait for it, then type until the box holds the path.
   */
  async typePath(path) {
    const input = this.quickInput.locator('.quick-input-box input');
    await input.waitFor({ state: 'visible', timeout: 30_000 });
    await pollUntil('the file dialog shows its starting folder', () => input.inputValue(), (v) => v.length > 0, 30_000, 100);
    await pollUntil(
      `the file dialog holds ${path}`,
      async () => {
        if ((await input.inputValue()) !== path) await input.fill(path);
        await sleep(300);
        return input.inputValue();
      },
      (v) => v.startsWith(path),
      30_000,
      100,
    );
  }

  /** Closes whatever quick input or hover an earlier step left open. */
  async dismiss() {
    for (let i = 0; i < 3 && (await this.quickInput.isVisible()); i++) await this.page.keyboard.press('Escape');
  }

  /**
   * Right-clicks `target` and runs its context menu's item `label`. A click that lands while the menu
   * is still opening is ignored by it (the menu stays open): then click the item again.
   */
  async contextMenu(target, label) {
    await target.click({ button: 'right' });
    const item = this.page.locator('.monaco-menu .action-label', { hasText: new RegExp(`^\\s*${escapeRe(label)}\\s*$`) }).first();
    await item.waitFor({ state: 'visible', timeout: 30_000 });
    await pollUntil(
      `the context menu's ${label} runs`,
      async () => {
        if (await item.isVisible()) await item.click({ timeout: 5_000 });
        await sleep(500);
        return item.isVisible();
      },
      (open) => !open,
      30_000,
      0,
    );
  }

  /** The modal dialog's text (message and buttons); clicks `button`. */
  async answerDialog(button) {
    const dialog = this.page.locator('.monaco-dialog-box');
    await dialog.waitFor({ state: 'visible', timeout: 30_000 });
    const message = (await dialog.innerText()).replace(/\s+/g, ' ');
    await dialog.locator('.dialog-buttons .monaco-button', { hasText: new RegExp(`^\\s*${escapeRe(button)}\\s*$`) }).click();
    await dialog.waitFor({ state: 'hidden', timeout: 30_000 });
    return message;
  }

  /** The texts of the notifications center (toasts may be hidden: the center lists them all). */
  async notifications() {
    const center = this.page.locator('.notifications-center');
    await this.runCommand('Notifications: Show Notifications');
    await center.waitFor({ state: 'visible', timeout: 30_000 });
    const texts = await center.locator('.notification-list-item-message').allTextContents();
    return texts.map((t) => t.replace(/\s+/g, ' ').trim());
  }

  /** Clears the notifications (a running progress one stays) and closes the center (Escape). */
  async hideNotifications() {
    const center = this.page.locator('.notifications-center');
    await this.runCommand('Notifications: Clear All Notifications');
    if (await center.isVisible()) {
      await center.click({ position: { x: 10, y: 10 } });
      await this.page.keyboard.press('Escape');
    }
    await center.waitFor({ state: 'hidden', timeout: 30_000 });
  }

  /** The status bar item of the extension, as text. */
  async statusText() {
    return this.page.evaluate(() =>
      [...document.querySelectorAll('.statusbar-item')]
        .map((e) => (e.textContent ?? '').trim())
        .filter((t) => /^Switchyard\b/.test(t))
        .join(' | '),
    );
  }

  /** The workbench's theme type from its classes: 'vs' (light), 'vs-dark', 'hc-black', 'hc-light'. */
  async themeType() {
    return this.page.evaluate(() => {
      const c = document.querySelector('.monaco-workbench')?.classList;
      return ['hc-light', 'hc-black', 'vs-dark', 'vs'].find((k) => c?.contains(k)) ?? 'unknown';
    });
  }

  /**
   * The decoration overlays VS Code draws for extension decoration types (classes `ced-...`) in the
   * editor whose tab is `tabTitle`: their classes, background colors and the columns they cover
   * (`from` to `to`, 0-based, end excluded; monospace: an overlay's left and width over the width of
   * a character). Monaco draws touching ranges of one decoration type as one overlay.
   */
  async editorDecorations(tabTitle) {
    return this.page.evaluate((title) => {
      const groups = [...document.querySelectorAll('.editor-group-container')];
      const group = groups.find((g) => g.querySelector('.tab.active')?.getAttribute('aria-label')?.startsWith(title) || g.querySelector('.title-label')?.textContent?.includes(title));
      const editor = group?.querySelector('.monaco-editor');
      if (!editor) return null;
      const longest = [...editor.querySelectorAll('.view-line > span')].reduce((a, b) => ((b.textContent ?? '').length > (a?.textContent ?? '').length ? b : a), null);
      const charWidth = longest ? longest.getBoundingClientRect().width / (longest.textContent ?? '').length : NaN;
      return [...editor.querySelectorAll('[class*="ced-"]')]
        .map((e) => ({
          cls: [...e.classList].filter((c) => c.startsWith('ced-')).join(' '),
          bg: getComputedStyle(e).backgroundColor,
          from: Math.round(parseFloat(e.style.left) / charWidth),
          to: Math.round((parseFloat(e.style.left) + parseFloat(e.style.width)) / charWidth),
        }))
        .filter((d) => d.bg && d.bg !== 'rgba(0, 0, 0, 0)' && d.bg !== 'transparent');
    }, tabTitle);
  }
}
