// Remediation text from Fleet is shown as HTML: it must stay readable and never inject markup.
import { expect, test } from 'vitest';
import { formatPlainText } from './format-text.ts';

test('escapes markup and keeps line breaks', () => {
  expect(formatPlainText('Open <b>Settings</b>\n& "turn it on"')).toBe('Open &lt;b&gt;Settings&lt;/b&gt;<br>\n&amp; &quot;turn it on&quot;');
});

test('links http(s) URLs but leaves trailing punctuation outside the link', () => {
  expect(formatPlainText('See https://support.apple.com/guide/mac-help/mh11785.')).toBe(
    'See <a href="https://support.apple.com/guide/mac-help/mh11785" rel="noopener noreferrer">https://support.apple.com/guide/mac-help/mh11785</a>.',
  );
});

test('never links other schemes and cannot break out of the attribute', () => {
  const html = formatPlainText('javascript:alert(1) https://x.example/"onmouseover="alert(1)');
  expect(html).not.toContain('href="javascript');
  expect(html).not.toMatch(/"onmouseover=/);
  expect(html).toContain('&quot;onmouseover=&quot;');
});
