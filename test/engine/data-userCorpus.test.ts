import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadUserCorpus } from '../../engine/data/userCorpus';

const roots: string[] = [];
after(() => roots.forEach((root) => rmSync(root, { recursive: true, force: true })));

function tree(files: Record<string, string | Buffer>): string {
  const root = mkdtempSync(path.join(tmpdir(), 'switchyard-corpus-'));
  roots.push(root);
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, name)), { recursive: true });
    writeFileSync(path.join(root, name), content);
  }
  return root;
}

const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d]);
const noise = Buffer.from(Array.from({ length: 400 }, (_, i) => 0x80 + (i % 64)));

test('a missing path is an error naming it', async () => {
  const root = tree({});
  await assert.rejects(loadUserCorpus('nope/notes.txt', { cwd: root }), (e: Error) => {
    assert.match(e.message, /path not found/);
    assert.ok(e.message.includes(path.join(root, 'nope/notes.txt')));
    return true;
  });
});

test('a glob that matches nothing, and an empty folder, are errors naming them', async () => {
  const root = tree({ 'a.txt': 'text' });
  await assert.rejects(loadUserCorpus('**/*.md', { cwd: root }), /no files match \*\*\/\*\.md/);
  mkdirSync(path.join(root, 'empty'));
  await assert.rejects(loadUserCorpus('empty', { cwd: root }), new RegExp(`no files in folder .*empty`));
});

test('empty input is an error naming the file', async () => {
  const root = tree({ 'blank.txt': '  \n\n ' });
  await assert.rejects(loadUserCorpus('blank.txt', { cwd: root }), /no text in .*blank\.txt: the file is empty/);
});

test('binary files: skipped with a warning when text remains, an error when nothing does', async () => {
  const root = tree({ 'img.png': png, 'data.bin': noise, 'notes.txt': 'real text' });
  await assert.rejects(loadUserCorpus('img.png', { cwd: root }), /no text in .*img\.png: it is a binary file/);
  await assert.rejects(loadUserCorpus('*.{png,bin}', { cwd: root }), /no text in \*\.\{png,bin\}: all 2 files are binary/);
  const corpus = await loadUserCorpus(root);
  assert.deepEqual(corpus.files.map((f) => f.id), ['notes.txt']);
  assert.equal(corpus.warnings.length, 2);
  assert.match(corpus.warnings.join('\n'), /img\.png \(contains NUL bytes\)/);
  assert.match(corpus.warnings.join('\n'), /data\.bin \(\d+\.\d% invalid UTF-8\)/);
});

test('a folder is read recursively, sorted, without dot-files or node_modules', async () => {
  const root = tree({
    'b.txt': 'bee',
    'a/z.md': 'zed',
    'a/y.txt': 'why',
    '.git/config': 'hidden',
    'node_modules/x/readme.md': 'dependency',
  });
  const corpus = await loadUserCorpus(root);
  assert.deepEqual(corpus.files.map((f) => f.id), ['a/y.txt', 'a/z.md', 'b.txt']);
  assert.deepEqual(corpus.files.map((f) => f.text), ['why', 'zed', 'bee']);
  const md = await loadUserCorpus('a/*.md', { cwd: root });
  assert.deepEqual(md.files.map((f) => f.id), ['a/z.md']);
});

test('the size limit is enforced with a message naming the input', async () => {
  const root = tree({ 'big.txt': 'x'.repeat(3000) });
  await assert.rejects(loadUserCorpus('big.txt', { cwd: root, maxBytes: 2000 }), /big\.txt holds more than .* corpus size limit/);
  const ok = await loadUserCorpus('big.txt', { cwd: root, maxBytes: 4000 });
  assert.equal(ok.files[0].text.length, 3000);
});

test('a mostly-UTF-8 file keeps its text, with the bad bytes replaced and a warning', async () => {
  const latin1 = Buffer.concat([Buffer.from('caf'), Buffer.from([0xe9]), Buffer.from(' au lait '.repeat(20))]);
  const root = tree({ 'menu.txt': latin1, 'bom.txt': '\ufeffhello' });
  const corpus = await loadUserCorpus(root);
  assert.ok(corpus.files[1].text.startsWith('caf\ufffd au lait'));
  assert.equal(corpus.files[0].text, 'hello', 'the BOM is dropped');
  assert.deepEqual(corpus.warnings, [`replaced invalid UTF-8 in ${path.join(root, 'menu.txt')} with U+FFFD`]);
});
