// The history file survives torn and foreign lines: reading keeps every whole entry, appending after a
// torn line starts a new one.
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { appendHistory, readHistory, type HistoryEntry } from './history-log.ts';

const entry = (version: string): HistoryEntry => ({ version, previous: '', author: 'alice@example.com', comment: `save ${version}`, time: '2026-11-22T10:00:00.000Z' });
const line = (version: string): string => JSON.stringify(entry(version));

async function historyWith(text: string): Promise<string> {
  const file = join(await mkdtemp(join(tmpdir(), 'tg-history-')), 'history.jsonl');
  await writeFile(file, text);
  return file;
}

test.each([
  ['a torn last line', `${line('a')}\n${line('b')}\n{"version":"c","aut`],
  ['a torn line in the middle', `${line('a')}\n{"vers\n${line('b')}\n`],
  ['lines that are JSON but not entries', `null\n${line('a')}\n{}\n[1]\n"x"\n{"version":1,"author":"","comment":"","time":"","previous":""}\n${line('b')}\n`],
  ['blank lines', `\n${line('a')}\n\n  \n${line('b')}\n`],
])('%s: the whole entries are read, newest first', async (_name, text) => {
  expect((await readHistory(await historyWith(text))).map((e) => e.version)).toEqual(['b', 'a']);
});

test('a missing file is an empty history', async () => {
  expect(await readHistory(join(tmpdir(), 'tg-history-missing', 'history.jsonl'))).toEqual([]);
});

test.each([
  ['after a torn line, the entry starts a new line', `${line('a')}\n{"vers`, `${line('a')}\n{"vers\n${line('b')}\n`],
  ['after a whole line, no blank line is added', `${line('a')}\n`, `${line('a')}\n${line('b')}\n`],
  ['into an empty file, just the entry', '', `${line('b')}\n`],
])('%s', async (_name, before, after) => {
  const file = await historyWith(before);
  await appendHistory(file, entry('b'));
  expect(await readFile(file, 'utf8')).toBe(after);
});
