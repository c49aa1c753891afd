import assert from 'node:assert/strict';
import { test } from 'node:test';
import { contrastRatio, deltaE, hslToRgb, mix, parseColor, readableTextColor, toHex, toRgbaString, withAlpha } from '../../webview/shared/color';
import { EXPERT_PALETTE, expertColor, expertColors, expertTextColor } from '../../webview/shared/expertColors';

const rgb = (s: string) => parseColor(s)!;

test('parseColor reads hex and rgb()/rgba() in their common forms', () => {
  assert.deepEqual(parseColor('#abc'), { r: 0xaa, g: 0xbb, b: 0xcc, a: 1 });
  assert.deepEqual(parseColor('#11223380'), { r: 0x11, g: 0x22, b: 0x33, a: 0x80 / 255 });
  assert.deepEqual(parseColor(' #FFFFFF '), { r: 255, g: 255, b: 255, a: 1 });
  assert.deepEqual(parseColor('rgba(10, 20, 30, 0.5)'), { r: 10, g: 20, b: 30, a: 0.5 });
  assert.deepEqual(parseColor('rgb(10 20 30 / 50%)'), { r: 10, g: 20, b: 30, a: 0.5 });
  assert.deepEqual(parseColor('rgb(100%, 0%, 0%)'), { r: 255, g: 0, b: 0, a: 1 });
  for (const bad of ['', 'red', '#12', '#ggg', 'rgb(1,2)', 'rgb(a,b,c)', 'hsl(0 0% 0%)']) assert.equal(parseColor(bad), null, bad);
});

test('hex, rgba strings, alpha and mixing', () => {
  assert.equal(toHex({ r: 255, g: 0.4, b: 16, a: 1 }), '#ff0010');
  assert.equal(toRgbaString(rgb('#102030'), 0.25), 'rgba(16, 32, 48, 0.25)');
  assert.equal(withAlpha('rgba(0, 0, 0, 0.5)', 0.5), 'rgba(0, 0, 0, 0.25)');
  assert.equal(withAlpha('not a color', 0.5), 'not a color');
  assert.equal(toHex(mix(rgb('#000000'), rgb('#ffffff'), 0.5)), '#808080');
  assert.equal(toHex(mix(rgb('#000000'), rgb('#ffffff'), 7)), '#ffffff');
  assert.equal(toHex(hslToRgb(120, 1, 0.5)), '#00ff00');
  assert.equal(toHex(hslToRgb(-120, 1, 0.5)), '#0000ff');
});

test('WCAG contrast and the readable text color', () => {
  assert.ok(Math.abs(contrastRatio(rgb('#000'), rgb('#fff')) - 21) < 1e-9);
  assert.equal(contrastRatio(rgb('#777'), rgb('#777')), 1);
  assert.equal(readableTextColor(rgb('#ffff00')), '#000000');
  assert.equal(readableTextColor(rgb('#000080')), '#ffffff');
  // Black or white always reaches 4.5:1 (AA) against any opaque background.
  for (let v = 0; v <= 255; v += 5) {
    for (const c of [`rgb(${v}, ${v}, ${v})`, `rgb(${v}, 0, ${255 - v})`, `rgb(255, ${v}, 0)`]) {
      const bg = rgb(c);
      assert.ok(contrastRatio(bg, rgb(readableTextColor(bg))) >= 4.5, c);
    }
  }
});

test('the 12-color expert palette: distinct hues that stand out on light and dark editors', () => {
  assert.equal(EXPERT_PALETTE.length, 12);
  assert.equal(new Set(EXPERT_PALETTE).size, 12);
  for (let i = 0; i < 12; i++) {
    for (let j = i + 1; j < 12; j++) {
      const d = deltaE(rgb(EXPERT_PALETTE[i]), rgb(EXPERT_PALETTE[j]));
      assert.ok(d >= 20, `experts ${i} and ${j} are too alike (ΔE ${d.toFixed(1)})`);
    }
    for (const editor of ['#ffffff', '#1f1f1f', '#1e1e1e', '#000000']) {
      const c = contrastRatio(rgb(EXPERT_PALETTE[i]), rgb(editor));
      assert.ok(c >= 1.5, `expert ${i} on ${editor}: ${c.toFixed(2)}`);
    }
  }
});

test('expert colors are deterministic by index, past the palette too, with readable text', () => {
  assert.equal(expertColor(0), EXPERT_PALETTE[0]);
  assert.equal(expertColor(11), EXPERT_PALETTE[11]);
  const many = Array.from({ length: 64 }, (_, i) => expertColor(i));
  // The index alone decides: asked in the other order, each expert gets the same color.
  assert.deepEqual(Array.from({ length: 64 }, (_, i) => expertColor(63 - i)).reverse(), many);
  for (const c of many) assert.match(c, /^#[0-9a-f]{6}$/);
  assert.equal(new Set(many).size, 64);
  // Neighbours past the palette differ clearly.
  for (let i = 12; i < 63; i++) assert.ok(deltaE(rgb(many[i]), rgb(many[i + 1])) > 15, `experts ${i}, ${i + 1}`);
  for (let i = 0; i < 64; i++) {
    const text = expertTextColor(i);
    assert.ok(text === '#000000' || text === '#ffffff');
    assert.ok(contrastRatio(rgb(many[i]), rgb(text)) >= 4.5, `text on expert ${i}`);
  }
  // The color of an expert does not depend on how many there are.
  assert.deepEqual(expertColors(16).slice(0, 8), expertColors(8));
  assert.deepEqual(expertColors(3), [0, 1, 2].map((i) => ({ background: expertColor(i), text: expertTextColor(i) })));
  assert.deepEqual(expertColors(0), []);
  assert.throws(() => expertColor(-1), RangeError);
  assert.throws(() => expertColor(1.5), RangeError);
});
