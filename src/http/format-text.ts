// Turns Fleet's plain-text policy resolutions into safe HTML: everything escaped first, then line breaks
// kept and http(s) URLs made into links, so remediation steps stay readable and can never inject markup.

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const URL_PATTERN = /\bhttps?:\/\/[^\s<>"']+[^\s<>"'.,;:!?)\]]/g;

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c] as string);
}

export function formatPlainText(text: string): string {
  const linked = escapeHtml(text.trim()).replace(URL_PATTERN, (url) => `<a href="${url}" rel="noopener noreferrer">${url}</a>`);
  return linked.replace(/\r?\n/g, '<br>\n');
}
