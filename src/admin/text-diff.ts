// A unified diff of two config texts as lines for the admin pages (the view escapes them), made with the
// `diff` package's structuredPatch: three lines of context around each change, like `git diff`.
import { structuredPatch } from 'diff';

export interface DiffLine {
  /** '+' added, '-' removed, ' ' context, '@' hunk header. */
  readonly kind: '+' | '-' | ' ' | '@';
  readonly text: string;
}

export function textDiff(before: string, after: string, labels: { before: string; after: string }): DiffLine[] {
  const patch = structuredPatch(labels.before, labels.after, before, after, '', '', { context: 3 });
  const lines: DiffLine[] = [];
  for (const hunk of patch.hunks) {
    lines.push({ kind: '@', text: `@@ -${hunk.oldStart},${hunk.oldLines} +${hunk.newStart},${hunk.newLines} @@` });
    for (const line of hunk.lines) {
      const kind = line[0];
      // "\ No newline at end of file" markers say nothing an admin needs.
      if (kind === '+' || kind === '-' || kind === ' ') lines.push({ kind, text: line.slice(1) });
    }
  }
  return lines;
}
